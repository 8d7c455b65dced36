"""Public Wi-Fi access points."""
from layers.model import Access, Field, FieldType as T, Label, Layer, OsmMapping, Style

WIFI_APS = Layer(
    id="wifi_aps",
    title_vi="Điểm phát Wi-Fi công cộng",
    title_en="Public Wi-Fi access points",
    theme="wifi",
    key=("ap_id",),
    geometry_type="Point",
    minzoom=12,
    style=Style("circle", "#6a3d9a", radius=5.0, opacity=1.0, label="name", icon="wifi",
                labels=(Label("name", minzoom=16, size=11, color="#4a2473"),)),
    fields=(
        Field("ap_id", T.TEXT, "Mã điểm phát", "Access point id", required=True,
              sources=("ma_ap",)),
        Field("name", T.TEXT, "Tên điểm", "Name", sources=("ten",)),
        Field("ssid", T.TEXT, "SSID", "SSID"),
        Field("band", T.TEXT, "Băng tần", "Band", choices=("2.4GHz", "5GHz", "dual")),
        Field("range_m", T.FLOAT, "Bán kính phủ sóng", "Nominal range", unit="m",
              sources=("ban_kinh",)),
        Field("site_kind", T.TEXT, "Loại địa điểm", "Site kind",
              choices=("market", "park", "public_building", "beach", "street")),
        Field("status", T.TEXT, "Tình trạng", "Status", choices=("online", "offline")),
        Field("address", T.TEXT, "Địa chỉ", "Address"),
        Field("mac", T.TEXT, "Địa chỉ MAC", "MAC address", access=Access.STAFF),
    ),
    # places offering Wi-Fi (cafés, hotels, shops): areas are taken at a point inside them
    osm=OsmMapping(
        elements=("points", "multipolygons"),
        select=(("internet_access", ("wlan", "yes", "wifi")),),
        fields=(("name", "name"), ("ssid", "internet_access:ssid"),
                ("address", ("addr:housenumber", "addr:street"))),
    ),
)
