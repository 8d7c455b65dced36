"""Public Wi-Fi access points."""
from layers.model import Access, Field, FieldType as T, Label, Layer, OsmMapping, Style

WIFI_APS = Layer(
    id="wifi_aps",
    title={"vi": "Điểm phát Wi-Fi công cộng", "en": "Public Wi-Fi access points"},
    theme="wifi",
    key=("ap_id",),
    geometry_type="Point",
    minzoom=12,
    style=Style("circle", "#6a3d9a", radius=5.0, opacity=1.0, label="name", icon="wifi",
                labels=(Label("name", minzoom=16, size=11, color="#4a2473"),)),
    fields=(
        Field("ap_id", T.TEXT, {"vi": "Mã điểm phát", "en": "Access point id"}, required=True,
              sources=("ma_ap",)),
        Field("name", T.TEXT, {"vi": "Tên điểm", "en": "Name"}, sources=("ten",)),
        Field("ssid", T.TEXT, {"vi": "SSID", "en": "SSID"}),
        Field("band", T.TEXT, {"vi": "Băng tần", "en": "Band"},
              choices=("2.4GHz", "5GHz", "dual")),
        Field("range_m", T.FLOAT, {"vi": "Bán kính phủ sóng", "en": "Nominal range"}, unit="m",
              sources=("ban_kinh",)),
        Field("site_kind", T.TEXT, {"vi": "Loại địa điểm", "en": "Site kind"},
              choices=("market", "park", "public_building", "beach", "street")),
        Field("status", T.TEXT, {"vi": "Tình trạng", "en": "Status"},
              choices=("online", "offline")),
        Field("address", T.TEXT, {"vi": "Địa chỉ", "en": "Address"}),
        Field("mac", T.TEXT, {"vi": "Địa chỉ MAC", "en": "MAC address"}, access=Access.STAFF),
    ),
    # places offering Wi-Fi (cafés, hotels, shops): areas are taken at a point inside them
    osm=OsmMapping(
        elements=("points", "multipolygons"),
        select=(("internet_access", ("wlan", "yes", "wifi")),),
        fields=(("name", "name"), ("ssid", "internet_access:ssid"),
                ("address", ("addr:housenumber", "addr:street"))),
    ),
)
