"""Planning layers: zoning, road reserves, flood zones, heritage areas.

Zoning categories are the plan's own list, distinct from cadastral land-use codes.
Zoning, road reserves and flood zones keep an overview up to z14 grouped by every field
(the key among them), so each row is one feature simplified by 3 m: z14 tiles read them
as the ETL encoded them instead of clipping 350 zones and 950 reserves on every request.
"""
from layers.model import Field, FieldType as T, Label, Layer, Overview, Style
from layers.sources import DEMO_CITY_ON_OSM

ZONING = Layer(
    id="zoning",
    title={"vi": "Phân khu chức năng quy hoạch", "en": "Zoning"},
    theme="planning",
    key=("zone_code",),
    geometry_type="MultiPolygon",
    minzoom=11,
    overview=Overview(maxzoom=14, group_by=(
        "zone_code", "name", "category", "allowed_uses", "max_coverage", "max_floors",
        "max_height_m", "min_setback_m", "max_far", "plan_ref")),
    versioned=True,  # a plan is amended: what it allowed on a past day stays answerable
    style=Style("fill", "#fee391", outline="#cc4c02", opacity=0.35, label="zone_code",
                by=("category", (("residential", "#fee391"), ("mixed", "#fdae61"),
                                 ("commercial", "#f768a1"), ("public", "#9ebcda"),
                                 ("green", "#a1d99b"), ("heritage", "#bf812d"))),
                order=-1,
                # from z18 the parcel numbers speak; a zone's code repeats in every tile it spans
                labels=(Label("zone_code", minzoom=14, maxzoom=18, font="bold", size=11,
                              color="#8c3a02"),)),
    fields=(
        Field("zone_code", T.TEXT, {"vi": "Ký hiệu ô phố", "en": "Zone code"}, required=True,
              sources=("ky_hieu",)),
        Field("name", T.TEXT, {"vi": "Tên khu", "en": "Name"}),
        Field("category", T.TEXT, {"vi": "Chức năng", "en": "Category"}, required=True,
              choices=("residential", "mixed", "commercial", "public", "green", "heritage")),
        Field("allowed_uses", T.TEXT, {"vi": "Công năng cho phép", "en": "Allowed uses"}),
        Field("max_coverage", T.FLOAT, {"vi": "Mật độ xây dựng tối đa", "en": "Max net coverage"},
              unit="%"),
        Field("max_floors", T.INTEGER, {"vi": "Tầng cao tối đa", "en": "Max floors"}),
        Field("max_height_m", T.FLOAT, {"vi": "Chiều cao tối đa", "en": "Max height"}, unit="m"),
        Field("min_setback_m", T.FLOAT, {"vi": "Khoảng lùi tối thiểu", "en": "Min setback"},
              unit="m"),
        Field("max_far", T.FLOAT, {"vi": "Hệ số sử dụng đất", "en": "Max floor-area ratio"}),
        Field("plan_ref", T.TEXT, {"vi": "Quyết định phê duyệt", "en": "Plan reference"}),
    ),
    source=DEMO_CITY_ON_OSM,
)

ROAD_RESERVES = Layer(
    id="road_reserves",
    title={"vi": "Chỉ giới đường đỏ", "en": "Road reserves"},
    theme="planning",
    key=("reserve_id",),
    geometry_type="MultiPolygon",
    minzoom=13,
    overview=Overview(maxzoom=14, group_by=("reserve_id", "road_name", "reserve_width_m")),
    # the red line (chỉ giới đường đỏ) is the reserve; a faint tint, or every street is pink
    style=Style("fill", "#e31a1c", outline="#e31a1c", opacity=0.08),
    fields=(
        Field("reserve_id", T.TEXT, {"vi": "Mã", "en": "Id"}, required=True),
        Field("road_name", T.TEXT, {"vi": "Tên đường", "en": "Street name"}),
        Field("reserve_width_m", T.FLOAT, {"vi": "Lộ giới", "en": "Reserve width"}, unit="m"),
    ),
    source=DEMO_CITY_ON_OSM,
)

FLOOD_ZONES = Layer(
    id="flood_zones",
    title={"vi": "Vùng ngập", "en": "Flood zones"},
    theme="hazards",
    key=("zone_id",),
    geometry_type="MultiPolygon",
    minzoom=10,
    overview=Overview(maxzoom=14, group_by=("zone_id", "risk", "typical_depth_m",
                                            "return_period")),
    style=Style("fill", "#3182bd", opacity=0.3,
                by=("risk", (("low", "#c6dbef"), ("medium", "#6baed6"), ("high", "#08519c")))),
    fields=(
        Field("zone_id", T.TEXT, {"vi": "Mã vùng", "en": "Zone id"}, required=True),
        Field("risk", T.TEXT, {"vi": "Mức nguy cơ", "en": "Risk"}, required=True,
              choices=("low", "medium", "high")),
        Field("typical_depth_m", T.FLOAT, {"vi": "Độ sâu ngập điển hình", "en": "Typical depth"},
              unit="m"),
        Field("return_period", T.INTEGER, {"vi": "Chu kỳ lặp", "en": "Return period"},
              unit="years"),
    ),
    source=DEMO_CITY_ON_OSM,
)

HERITAGE_AREAS = Layer(
    id="heritage_areas",
    title={"vi": "Khu vực di tích", "en": "Heritage areas"},
    theme="planning",
    key=("heritage_id",),
    geometry_type="MultiPolygon",
    minzoom=11,
    style=Style("fill", "#8c510a", outline="#543005", opacity=0.3, label="name",
                labels=(Label("name", minzoom=14, font="italic", size=11, color="#543005"),)),
    fields=(
        Field("heritage_id", T.TEXT, {"vi": "Mã di tích", "en": "Heritage id"}, required=True),
        Field("name", T.TEXT, {"vi": "Tên di tích", "en": "Name"}, required=True),
        Field("protection_zone", T.TEXT, {"vi": "Khu vực bảo vệ", "en": "Protection zone"},
              choices=("I", "II")),
        Field("decision", T.TEXT, {"vi": "Quyết định xếp hạng", "en": "Listing decision"}),
    ),
)
