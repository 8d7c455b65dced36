"""Base map: road centrelines, water bodies, building footprints, wards."""
from layers.model import (Access, Field, FieldType as T, Label, Layer, OsmMapping, Overview,
                          Style)
from layers.sources import WARD_BOUNDARIES

WARDS = Layer(
    id="wards",
    title={"vi": "Phường, xã", "en": "Wards and communes"},
    theme="base",
    key=("code",),
    geometry_type="MultiPolygon",
    minzoom=8,
    style=Style("line", "#7b3294", width=2.0, opacity=0.9, label="name", dash=(3, 1.5),
                order=9,  # ward boundaries over every other line
                labels=(Label("name", font="bold", size=13, color="#5e2a7e", uppercase=True,
                              fields={"en": "name_en"}, maxzoom=17),)),
    fields=(
        Field("code", T.TEXT, {"vi": "Mã đơn vị", "en": "Unit code"},
              required=True, sources=("ma_xa", "id")),
        Field("name", T.TEXT, {"vi": "Tên", "en": "Name"}, required=True, sources=("ten",)),
        Field("name_en", T.TEXT, {"vi": "Tên tiếng Anh", "en": "English name"},
              sources=("nameEn",)),
        Field("full_name", T.TEXT, {"vi": "Tên đầy đủ", "en": "Full name"}, sources=("fullName",)),
        Field("area_km2", T.FLOAT, {"vi": "Diện tích chính thức", "en": "Official area"},
              unit="km²",
              sources=("areaKm2",)),
    ),
    description={"en": "Commune-level units of Da Nang since 1 July 2025."},
    source=WARD_BOUNDARIES,
)

ROADS = Layer(
    id="roads",
    title={"vi": "Đường phố", "en": "Streets"},
    theme="base",
    key=("road_id",),
    geometry_type="MultiLineString",
    minzoom=10,
    style=Style("line", "#f2c14e", width=3.0, opacity=1.0, label="name", casing="#b7a48f",
                by=("road_class", (("primary", "#f4a259"), ("secondary", "#f7cf6b"),
                                   ("tertiary", "#fbeaa5"), ("residential", "#ffffff"))),
                widths=(("primary", 18.0), ("secondary", 15.0), ("tertiary", 12.0),
                        ("residential", 9.0)),
                labels=(Label("name", minzoom=14, size=12),)),
    fields=(
        Field("road_id", T.TEXT, {"vi": "Mã đường", "en": "Road id"},
              required=True, sources=("ma_duong",)),
        Field("name", T.TEXT, {"vi": "Tên đường", "en": "Street name"}, sources=("ten_duong",)),
        Field("road_class", T.TEXT, {"vi": "Cấp đường", "en": "Road class"},
              choices=("primary", "secondary", "tertiary", "residential")),
        Field("row_width", T.FLOAT, {"vi": "Lộ giới", "en": "Right-of-way width"}, unit="m",
              sources=("lo_gioi",)),
        Field("lanes", T.INTEGER, {"vi": "Số làn xe", "en": "Lanes"}),
    ),
    osm=OsmMapping(
        elements=("lines",),
        select=(("highway", ("trunk", "trunk_link", "primary", "primary_link", "secondary",
                             "secondary_link", "tertiary", "tertiary_link", "residential",
                             "unclassified", "living_street", "service")),),
        fields=(("name", "name"), ("road_class", "highway"), ("lanes", "lanes")),
        values=(("road_class", (("trunk", "primary"), ("trunk_link", "primary"),
                                ("primary", "primary"), ("primary_link", "primary"),
                                ("secondary", "secondary"), ("secondary_link", "secondary"),
                                ("tertiary", "tertiary"), ("tertiary_link", "tertiary"),
                                ("residential", "residential"), ("unclassified", "residential"),
                                ("living_street", "residential"), ("service", "residential"))),),
    ),
)

WATER = Layer(
    id="water",
    title={"vi": "Mặt nước", "en": "Water"},
    theme="base",
    key=("water_id",),
    geometry_type="MultiPolygon",
    minzoom=8,
    style=Style("fill", "#a9d3f0", outline="#5b9bd1", opacity=1.0, label="name", width=1.2,
                labels=(Label("name", font="italic", size=13, color="#1f5f99"),)),
    fields=(
        Field("water_id", T.TEXT, {"vi": "Mã", "en": "Id"}, required=True),
        Field("name", T.TEXT, {"vi": "Tên", "en": "Name"}),
        Field("kind", T.TEXT, {"vi": "Loại", "en": "Kind"},
              choices=("river", "lake", "sea", "canal")),
    ),
    osm=OsmMapping(
        elements=("multipolygons",),
        select=(("natural", ("water",)), ("water", ())),
        fields=(("name", "name"), ("kind", "water")),
        values=(("kind", (("lake", "lake"), ("pond", "lake"), ("reservoir", "lake"),
                          ("basin", "lake"), ("river", "river"), ("canal", "canal"),
                          ("lagoon", "sea"))),),
    ),
)

BUILDINGS = Layer(
    id="buildings",
    title={"vi": "Công trình hiện trạng", "en": "Buildings"},
    theme="base",
    key=("building_id",),
    geometry_type="MultiPolygon",
    # at z15 a footprint is a few pixels and central tiles carry 180 KB of them: z14-15
    # tiles carry the overview, footprints merged per 250 m cell and simplified
    minzoom=14,
    overview=Overview(maxzoom=15, group_by=()),
    tile_max_features=5000,  # the densest demo z16 tile: ~1,250
    style=Style("fill", "#d9d0c9", outline="#b8aca2", opacity=0.9, order=2),
    fields=(
        Field("building_id", T.TEXT, {"vi": "Mã công trình", "en": "Building id"}, required=True),
        Field("floors", T.INTEGER, {"vi": "Số tầng", "en": "Floors"}),
        Field("height_m", T.FLOAT, {"vi": "Chiều cao", "en": "Height"}, unit="m"),
        Field("use", T.TEXT, {"vi": "Công năng", "en": "Use"}),
    ),
    osm=OsmMapping(
        elements=("multipolygons",),
        select=(("building", ()),),
        fields=(("floors", "building:levels"), ("height_m", "height"), ("use", "building")),
    ),
)

__all__ = ["WARDS", "ROADS", "WATER", "BUILDINGS", "Access"]
