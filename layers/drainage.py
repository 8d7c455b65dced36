"""Drainage network: nodes (manholes, inlets, outfalls, pump stations, rain gauges) and pipes."""
from layers.model import (Access, Field, FieldIndex, FeatureMinzoom, FieldType as T, Layer,
                          Overview, Style)
from layers.sources import DEMO_CITY_ON_OSM

NODE_KINDS = ("manhole", "inlet", "outfall", "pump_station", "rain_gauge")

DRAINAGE_NODES = Layer(
    id="drainage_nodes",
    title={"vi": "Nút thoát nước", "en": "Drainage nodes"},
    theme="drainage",
    key=("node_id",),
    geometry_type="Point",
    minzoom=14,
    # 35,000 manholes and inlets are 95 % of a z14 tile's nodes (177 KB of the densest):
    # they show from z15, the pump stations, outfalls and rain gauges from z14
    feature_minzoom=FeatureMinzoom("kind", ("manhole", "inlet"), 15),
    style=Style("circle", "#2171b5", radius=4.0, opacity=0.9,
                by=("kind", (("manhole", "#2171b5"), ("inlet", "#6baed6"),
                             ("outfall", "#08306b"), ("pump_station", "#e6550d"),
                             ("rain_gauge", "#31a354"))),
                icons=("kind", (("manhole", "manhole"), ("outfall", "outfall"),
                                ("pump_station", "pump")))),
    fields=(
        Field("node_id", T.TEXT, {"vi": "Mã nút", "en": "Node id"},
              required=True, sources=("ma_nut",)),
        Field("kind", T.TEXT, {"vi": "Loại", "en": "Kind"}, required=True, choices=NODE_KINDS,
              sources=("loai",)),
        Field("ground_level", T.FLOAT, {"vi": "Cao độ mặt đất", "en": "Ground level"}, unit="m",
              sources=("cao_do_md",)),
        Field("invert_level", T.FLOAT, {"vi": "Cao độ đáy", "en": "Invert level"}, unit="m",
              sources=("cao_do_day",)),
        Field("street", T.TEXT, {"vi": "Đường", "en": "Street"}),
        Field("status", T.TEXT, {"vi": "Tình trạng", "en": "Status"}, access=Access.STAFF,
              choices=("ok", "blocked", "damaged")),
    ),
    source=DEMO_CITY_ON_OSM,
)

DRAINAGE_PIPES = Layer(
    id="drainage_pipes",
    title={"vi": "Cống thoát nước", "en": "Drainage pipes"},
    theme="drainage",
    key=("pipe_id",),
    geometry_type="LineString",
    minzoom=13,
    # 34,860 two-point segments (277 KB of the densest z14 tile): z13-14 tiles carry the
    # overview, the pipes of one diameter joined into lines per 250 m cell and simplified
    overview=Overview(maxzoom=14, group_by=("diameter_mm",)),
    # drainage traces (gisapp.analysis.drainage) walk pipes by their end nodes, both ways
    indexes=(FieldIndex(("from_node",)), FieldIndex(("to_node",))),
    style=Style("line", "#4292c6", width=2.0, opacity=0.9),
    fields=(
        Field("pipe_id", T.TEXT, {"vi": "Mã cống", "en": "Pipe id"},
              required=True, sources=("ma_cong",)),
        Field("from_node", T.TEXT, {"vi": "Nút đầu", "en": "From node"},
              required=True, sources=("nut_dau",)),
        Field("to_node", T.TEXT, {"vi": "Nút cuối", "en": "To node"},
              required=True, sources=("nut_cuoi",)),
        Field("diameter_mm", T.INTEGER, {"vi": "Đường kính", "en": "Diameter"}, unit="mm",
              sources=("duong_kinh",)),
        Field("material", T.TEXT, {"vi": "Vật liệu", "en": "Material"},
              choices=("concrete", "hdpe", "brick")),
        Field("invert_up", T.FLOAT, {"vi": "Cao độ đáy đầu", "en": "Upstream invert"}, unit="m"),
        Field("invert_down", T.FLOAT, {"vi": "Cao độ đáy cuối", "en": "Downstream invert"},
              unit="m"),
        Field("install_year", T.INTEGER, {"vi": "Năm lắp đặt", "en": "Year installed"},
              access=Access.STAFF,
              year=True),
    ),
    source=DEMO_CITY_ON_OSM,
)
