"""Public lighting: control cabinets and the street lights they feed."""
from layers.model import Access, Field, FieldType as T, Label, Layer, Style

LIGHT_STATUSES = ("working", "out_of_service", "dimmed")

LIGHTING_CABINETS = Layer(
    id="lighting_cabinets",
    title_vi="Tủ điều khiển chiếu sáng",
    title_en="Lighting cabinets",
    theme="lighting",
    key=("cabinet_id",),
    geometry_type="Point",
    minzoom=13,
    style=Style("circle", "#7f2704", radius=6.0, opacity=1.0, icon="cabinet", label="name",
                labels=(Label("name", minzoom=17, size=10),)),
    fields=(
        Field("cabinet_id", T.TEXT, "Mã tủ", "Cabinet id", required=True, sources=("ma_tu",)),
        Field("name", T.TEXT, "Tên tủ", "Name"),
        Field("street", T.TEXT, "Đường", "Street"),
        Field("capacity_kw", T.FLOAT, "Công suất", "Capacity", unit="kW"),
        Field("status", T.TEXT, "Tình trạng", "Status", choices=("working", "fault")),
    ),
)

STREET_LIGHTS = Layer(
    id="street_lights",
    title_vi="Đèn chiếu sáng",
    title_en="Street lights",
    theme="lighting",
    key=("light_id",),
    geometry_type="Point",
    minzoom=15,
    style=Style("circle", "#feb24c", radius=3.0, opacity=1.0,
                by=("status", (("working", "#feb24c"), ("out_of_service", "#636363"),
                               ("dimmed", "#fee391"))),
                icon="lamp", icon_zoom=17),
    fields=(
        Field("light_id", T.TEXT, "Mã đèn", "Light id", required=True, sources=("ma_den",)),
        Field("cabinet_id", T.TEXT, "Mã tủ", "Cabinet id", sources=("ma_tu",)),
        Field("lamp_type", T.TEXT, "Loại đèn", "Lamp type", choices=("LED", "HPS", "MH")),
        Field("wattage", T.INTEGER, "Công suất", "Wattage", unit="W", sources=("cong_suat",)),
        Field("pole_height", T.FLOAT, "Chiều cao cột", "Pole height", unit="m"),
        Field("status", T.TEXT, "Tình trạng", "Status", choices=LIGHT_STATUSES,
              sources=("tinh_trang",)),
        Field("street", T.TEXT, "Đường", "Street"),
        Field("install_year", T.INTEGER, "Năm lắp đặt", "Year installed", access=Access.STAFF,
              year=True),
    ),
)
