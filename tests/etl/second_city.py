"""A second city for the city-switch test: central Hà Nội, in its own VN-2000 / TM-3 zone."""
from layers.city import City

# Hà Nội's cadastral zone: VN-2000 / TM-3, central meridian 105°00′ (EPSG:5897, "zone 482").
HA_NOI = City(
    id="ha_noi",
    name={"vi": "Hà Nội", "en": "Hanoi"},
    metric_srid=5897,
    metric_crs_name="VN-2000 / TM-3 105°00′",
    central_meridian=105.0,
    timezone="Asia/Ho_Chi_Minh",
    centre=(105.8524, 21.0288),  # Hoàn Kiếm Lake
    zoom=14,
    bounds=(105.28, 20.56, 106.02, 21.39),
)
