"""Vietnamese and English names of the registry's coded values, for legends and popups.

Keyed by (field name, value): a field name means the same thing wherever it is declared
(every `status` of "working" is a working device). Land-use codes are named by
`layers.land_use_codes`. A test fails when a declared choice has no names here.
"""
from __future__ import annotations

from layers.land_use_codes import LAND_USE_CODES, describe_land_use
from layers.model import Field

LAND_USE_FIELDS = ("land_use",)

NAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("road_class", "primary"): ("Đường chính", "Primary road"),
    ("road_class", "secondary"): ("Đường cấp hai", "Secondary road"),
    ("road_class", "tertiary"): ("Đường cấp ba", "Tertiary road"),
    ("road_class", "residential"): ("Đường khu dân cư", "Residential street"),
    ("kind", "river"): ("Sông", "River"),
    ("kind", "lake"): ("Hồ", "Lake"),
    ("kind", "sea"): ("Biển", "Sea"),
    ("kind", "canal"): ("Kênh", "Canal"),
    ("kind", "manhole"): ("Hố ga", "Manhole"),
    ("kind", "inlet"): ("Cửa thu nước", "Inlet"),
    ("kind", "outfall"): ("Cửa xả", "Outfall"),
    ("kind", "pump_station"): ("Trạm bơm", "Pump station"),
    ("kind", "rain_gauge"): ("Trạm đo mưa", "Rain gauge"),
    ("kind", "school"): ("Trường học", "School"),
    ("kind", "kindergarten"): ("Trường mầm non", "Kindergarten"),
    ("kind", "college"): ("Trường cao đẳng", "College"),
    ("kind", "university"): ("Trường đại học", "University"),
    ("kind", "hospital"): ("Bệnh viện", "Hospital"),
    ("kind", "clinic"): ("Phòng khám, trung tâm y tế", "Clinic or health centre"),
    ("kind", "doctors"): ("Phòng khám bác sĩ", "Doctor's practice"),
    ("kind", "dentist"): ("Nha khoa", "Dentist"),
    ("kind", "pharmacy"): ("Nhà thuốc", "Pharmacy"),
    ("kind", "person"): ("Cá nhân", "Person"),
    ("kind", "organisation"): ("Tổ chức", "Organisation"),
    ("status", "ok"): ("Bình thường", "OK"),
    ("status", "blocked"): ("Tắc nghẽn", "Blocked"),
    ("status", "damaged"): ("Hư hỏng", "Damaged"),
    ("status", "working"): ("Đang hoạt động", "Working"),
    ("status", "fault"): ("Sự cố", "Fault"),
    ("status", "out_of_service"): ("Ngừng hoạt động", "Out of service"),
    ("status", "dimmed"): ("Giảm công suất", "Dimmed"),
    ("status", "online"): ("Trực tuyến", "Online"),
    ("status", "offline"): ("Mất kết nối", "Offline"),
    ("material", "concrete"): ("Bê tông", "Concrete"),
    ("material", "hdpe"): ("Nhựa HDPE", "HDPE"),
    ("material", "brick"): ("Gạch", "Brick"),
    ("right_type", "use"): ("Quyền sử dụng đất", "Land use right"),
    ("right_type", "ownership"): ("Quyền sở hữu tài sản", "Ownership"),
    ("right_type", "lease"): ("Thuê đất", "Lease"),
    ("lamp_type", "LED"): ("LED", "LED"),
    ("lamp_type", "HPS"): ("Cao áp natri", "High-pressure sodium"),
    ("lamp_type", "MH"): ("Metal halide", "Metal halide"),
    ("category", "residential"): ("Đất ở", "Residential"),
    ("category", "mixed"): ("Hỗn hợp", "Mixed use"),
    ("category", "commercial"): ("Thương mại dịch vụ", "Commercial"),
    ("category", "public"): ("Công trình công cộng", "Public facilities"),
    ("category", "green"): ("Cây xanh", "Green space"),
    ("category", "heritage"): ("Di tích", "Heritage"),
    ("risk", "low"): ("Thấp", "Low"),
    ("risk", "medium"): ("Trung bình", "Medium"),
    ("risk", "high"): ("Cao", "High"),
    ("protection_zone", "I"): ("Khu vực I", "Zone I"),
    ("protection_zone", "II"): ("Khu vực II", "Zone II"),
    ("band", "2.4GHz"): ("2,4 GHz", "2.4 GHz"),
    ("band", "5GHz"): ("5 GHz", "5 GHz"),
    ("band", "dual"): ("Hai băng tần", "Dual band"),
    ("site_kind", "market"): ("Chợ", "Market"),
    ("site_kind", "park"): ("Công viên", "Park"),
    ("site_kind", "public_building"): ("Công trình công cộng", "Public building"),
    ("site_kind", "beach"): ("Bãi biển", "Beach"),
    ("site_kind", "street"): ("Đường phố", "Street"),
}


# How each declared unit is written in either language (a field's `unit` is a key here).
UNITS: dict[str, tuple[str, str]] = {
    "m": ("m", "m"),
    "mm": ("mm", "mm"),
    "m²": ("m²", "m²"),
    "km²": ("km²", "km²"),
    "%": ("%", "%"),
    "W": ("W", "W"),
    "kW": ("kW", "kW"),
    "years": ("năm", "years"),
}

# The kinds of change a versioned layer's history records (etl.load, gisapp.land.edits).
CHANGE_KINDS: dict[str, tuple[str, str]] = {
    "create": ("Tạo mới", "Created"),
    "insert": ("Nhập mới", "Imported"),
    "update": ("Cập nhật", "Updated"),
    "split": ("Tách thửa", "Split"),
    "merge": ("Hợp thửa", "Merged"),
}


def unit_name(unit: str | None) -> dict[str, str] | None:
    """{vi, en} of a declared unit; a unit missing from UNITS is written as declared."""
    if unit is None:
        return None
    vi, en = UNITS.get(unit, (unit, unit))
    return {"vi": vi, "en": en}


def change_names() -> dict[str, dict[str, str]]:
    """{kind: {vi, en}} of every change kind a layer's history may record."""
    return {kind: {"vi": vi, "en": en} for kind, (vi, en) in CHANGE_KINDS.items()}


def value_name(field_name: str, value: str) -> dict[str, str] | None:
    """{vi, en} names of one coded value, or None when it has none."""
    if field_name in LAND_USE_FIELDS:
        code = describe_land_use(value)
        return {"vi": code["name_vi"], "en": code["name_en"]} if code and code["name_vi"] else None
    names = NAMES.get((field_name, value))
    return {"vi": names[0], "en": names[1]} if names else None


def value_names(field: Field) -> dict[str, dict[str, str]]:
    """Names of every value a field may hold, {value: {vi, en}}; empty for free text."""
    if field.name in LAND_USE_FIELDS:
        return {code: {"vi": c.name_vi, "en": c.name_en} for code, c in LAND_USE_CODES.items()}
    return {value: names for value in field.choices
            if (names := value_name(field.name, value)) is not None}
