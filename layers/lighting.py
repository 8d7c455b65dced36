"""Public lighting: control cabinets and the street lights they feed."""
from layers.model import Access, Field, FieldType as T, Label, Layer, Style
from layers.sources import DEMO_CITY_ON_OSM

LIGHT_STATUSES = ("working", "out_of_service", "dimmed")

LIGHTING_CABINETS = Layer(
    id="lighting_cabinets",
    title={"vi": "Tủ điều khiển chiếu sáng", "en": "Lighting cabinets"},
    theme="lighting",
    key=("cabinet_id",),
    geometry_type="Point",
    minzoom=13,
    style=Style("circle", "#7f2704", radius=6.0, opacity=1.0, icon="cabinet", label="name",
                labels=(Label("name", minzoom=17, size=10),)),
    fields=(
        Field("cabinet_id", T.TEXT, {"vi": "Mã tủ", "en": "Cabinet id"},
              required=True, sources=("ma_tu",)),
        Field("name", T.TEXT, {"vi": "Tên tủ", "en": "Name"}),
        Field("street", T.TEXT, {"vi": "Đường", "en": "Street"}),
        Field("capacity_kw", T.FLOAT, {"vi": "Công suất", "en": "Capacity"}, unit="kW"),
        Field("status", T.TEXT, {"vi": "Tình trạng", "en": "Status"},
              choices=("working", "fault")),
    ),
    source=DEMO_CITY_ON_OSM,
)

STREET_LIGHTS = Layer(
    id="street_lights",
    title={"vi": "Đèn chiếu sáng", "en": "Street lights"},
    theme="lighting",
    key=("light_id",),
    geometry_type="Point",
    minzoom=15,
    style=Style("circle", "#feb24c", radius=3.0, opacity=1.0,
                by=("status", (("working", "#feb24c"), ("out_of_service", "#636363"),
                               ("dimmed", "#fee391"))),
                icon="lamp", icon_zoom=17),
    fields=(
        Field("light_id", T.TEXT, {"vi": "Mã đèn", "en": "Light id"},
              required=True, sources=("ma_den",)),
        Field("cabinet_id", T.TEXT, {"vi": "Mã tủ", "en": "Cabinet id"}, sources=("ma_tu",)),
        Field("lamp_type", T.TEXT, {"vi": "Loại đèn", "en": "Lamp type"},
              choices=("LED", "HPS", "MH")),
        Field("wattage", T.INTEGER, {"vi": "Công suất", "en": "Wattage"},
              unit="W", sources=("cong_suat",)),
        Field("pole_height", T.FLOAT, {"vi": "Chiều cao cột", "en": "Pole height"}, unit="m"),
        Field("status", T.TEXT, {"vi": "Tình trạng", "en": "Status"}, choices=LIGHT_STATUSES,
              sources=("tinh_trang",)),
        Field("street", T.TEXT, {"vi": "Đường", "en": "Street"}),
        Field("install_year", T.INTEGER, {"vi": "Năm lắp đặt", "en": "Year installed"},
              access=Access.STAFF,
              year=True),
    ),
    source=DEMO_CITY_ON_OSM,
)
