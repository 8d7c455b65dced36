"""Drainage network: nodes (manholes, inlets, outfalls, pump stations, rain gauges) and pipes."""
from layers.model import Access, Field, FieldIndex, FieldType as T, Layer, Style

NODE_KINDS = ("manhole", "inlet", "outfall", "pump_station", "rain_gauge")

DRAINAGE_NODES = Layer(
    id="drainage_nodes",
    title_vi="Nút thoát nước",
    title_en="Drainage nodes",
    theme="drainage",
    key=("node_id",),
    geometry_type="Point",
    minzoom=14,
    style=Style("circle", "#2171b5", radius=4.0, opacity=0.9,
                by=("kind", (("manhole", "#2171b5"), ("inlet", "#6baed6"),
                             ("outfall", "#08306b"), ("pump_station", "#e6550d"),
                             ("rain_gauge", "#31a354"))),
                icons=("kind", (("manhole", "manhole"), ("outfall", "outfall"),
                                ("pump_station", "pump")))),
    fields=(
        Field("node_id", T.TEXT, "Mã nút", "Node id", required=True, sources=("ma_nut",)),
        Field("kind", T.TEXT, "Loại", "Kind", required=True, choices=NODE_KINDS,
              sources=("loai",)),
        Field("ground_level", T.FLOAT, "Cao độ mặt đất", "Ground level", unit="m",
              sources=("cao_do_md",)),
        Field("invert_level", T.FLOAT, "Cao độ đáy", "Invert level", unit="m",
              sources=("cao_do_day",)),
        Field("street", T.TEXT, "Đường", "Street"),
        Field("status", T.TEXT, "Tình trạng", "Status", access=Access.STAFF,
              choices=("ok", "blocked", "damaged")),
    ),
)

DRAINAGE_PIPES = Layer(
    id="drainage_pipes",
    title_vi="Cống thoát nước",
    title_en="Drainage pipes",
    theme="drainage",
    key=("pipe_id",),
    geometry_type="LineString",
    minzoom=13,
    # drainage traces (gisapp.analysis.drainage) walk pipes by their end nodes, both ways
    indexes=(FieldIndex(("from_node",)), FieldIndex(("to_node",))),
    style=Style("line", "#4292c6", width=2.0, opacity=0.9),
    fields=(
        Field("pipe_id", T.TEXT, "Mã cống", "Pipe id", required=True, sources=("ma_cong",)),
        Field("from_node", T.TEXT, "Nút đầu", "From node", required=True, sources=("nut_dau",)),
        Field("to_node", T.TEXT, "Nút cuối", "To node", required=True, sources=("nut_cuoi",)),
        Field("diameter_mm", T.INTEGER, "Đường kính", "Diameter", unit="mm",
              sources=("duong_kinh",)),
        Field("material", T.TEXT, "Vật liệu", "Material", choices=("concrete", "hdpe", "brick")),
        Field("invert_up", T.FLOAT, "Cao độ đáy đầu", "Upstream invert", unit="m"),
        Field("invert_down", T.FLOAT, "Cao độ đáy cuối", "Downstream invert", unit="m"),
        Field("install_year", T.INTEGER, "Năm lắp đặt", "Year installed", access=Access.STAFF,
              year=True),
    ),
)
