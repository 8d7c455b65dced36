"""Names of the registry's coded values in every language, for legends and popups.

Keyed by (field name, value): a field name means the same thing wherever it is declared
(every `status` of "working" is a working device). Land-use codes are named by
`layers.land_use_codes`. A test fails when a declared choice has no names here.
"""
from __future__ import annotations

from layers.land_use_codes import LAND_USE_CODES
from layers.model import LANGUAGES, Field

LAND_USE_FIELDS = ("land_use",)

NAMES: dict[tuple[str, str], dict[str, str]] = {
    ("road_class", "primary"): {"vi": "Đường chính", "en": "Primary road"},
    ("road_class", "secondary"): {"vi": "Đường cấp hai", "en": "Secondary road"},
    ("road_class", "tertiary"): {"vi": "Đường cấp ba", "en": "Tertiary road"},
    ("road_class", "residential"): {"vi": "Đường khu dân cư", "en": "Residential street"},
    ("kind", "river"): {"vi": "Sông", "en": "River"},
    ("kind", "lake"): {"vi": "Hồ", "en": "Lake"},
    ("kind", "sea"): {"vi": "Biển", "en": "Sea"},
    ("kind", "canal"): {"vi": "Kênh", "en": "Canal"},
    ("kind", "manhole"): {"vi": "Hố ga", "en": "Manhole"},
    ("kind", "inlet"): {"vi": "Cửa thu nước", "en": "Inlet"},
    ("kind", "outfall"): {"vi": "Cửa xả", "en": "Outfall"},
    ("kind", "pump_station"): {"vi": "Trạm bơm", "en": "Pump station"},
    ("kind", "rain_gauge"): {"vi": "Trạm đo mưa", "en": "Rain gauge"},
    ("kind", "school"): {"vi": "Trường học", "en": "School"},
    ("kind", "kindergarten"): {"vi": "Trường mầm non", "en": "Kindergarten"},
    ("kind", "college"): {"vi": "Trường cao đẳng", "en": "College"},
    ("kind", "university"): {"vi": "Trường đại học", "en": "University"},
    ("kind", "hospital"): {"vi": "Bệnh viện", "en": "Hospital"},
    ("kind", "clinic"): {"vi": "Phòng khám, trung tâm y tế", "en": "Clinic or health centre"},
    ("kind", "doctors"): {"vi": "Phòng khám bác sĩ", "en": "Doctor's practice"},
    ("kind", "dentist"): {"vi": "Nha khoa", "en": "Dentist"},
    ("kind", "pharmacy"): {"vi": "Nhà thuốc", "en": "Pharmacy"},
    ("kind", "person"): {"vi": "Cá nhân", "en": "Person"},
    ("kind", "organisation"): {"vi": "Tổ chức", "en": "Organisation"},
    ("status", "ok"): {"vi": "Bình thường", "en": "OK"},
    ("status", "blocked"): {"vi": "Tắc nghẽn", "en": "Blocked"},
    ("status", "damaged"): {"vi": "Hư hỏng", "en": "Damaged"},
    ("status", "working"): {"vi": "Đang hoạt động", "en": "Working"},
    ("status", "fault"): {"vi": "Sự cố", "en": "Fault"},
    ("status", "out_of_service"): {"vi": "Ngừng hoạt động", "en": "Out of service"},
    ("status", "dimmed"): {"vi": "Giảm công suất", "en": "Dimmed"},
    ("status", "online"): {"vi": "Trực tuyến", "en": "Online"},
    ("status", "offline"): {"vi": "Mất kết nối", "en": "Offline"},
    ("material", "concrete"): {"vi": "Bê tông", "en": "Concrete"},
    ("material", "hdpe"): {"vi": "Nhựa HDPE", "en": "HDPE"},
    ("material", "brick"): {"vi": "Gạch", "en": "Brick"},
    ("right_type", "use"): {"vi": "Quyền sử dụng đất", "en": "Land use right"},
    ("right_type", "ownership"): {"vi": "Quyền sở hữu tài sản", "en": "Ownership"},
    ("right_type", "lease"): {"vi": "Thuê đất", "en": "Lease"},
    ("lamp_type", "LED"): {"vi": "LED", "en": "LED"},
    ("lamp_type", "HPS"): {"vi": "Cao áp natri", "en": "High-pressure sodium"},
    ("lamp_type", "MH"): {"vi": "Metal halide", "en": "Metal halide"},
    ("category", "residential"): {"vi": "Đất ở", "en": "Residential"},
    ("category", "mixed"): {"vi": "Hỗn hợp", "en": "Mixed use"},
    ("category", "commercial"): {"vi": "Thương mại dịch vụ", "en": "Commercial"},
    ("category", "public"): {"vi": "Công trình công cộng", "en": "Public facilities"},
    ("category", "green"): {"vi": "Cây xanh", "en": "Green space"},
    ("category", "heritage"): {"vi": "Di tích", "en": "Heritage"},
    ("risk", "low"): {"vi": "Thấp", "en": "Low"},
    ("risk", "medium"): {"vi": "Trung bình", "en": "Medium"},
    ("risk", "high"): {"vi": "Cao", "en": "High"},
    ("protection_zone", "I"): {"vi": "Khu vực I", "en": "Zone I"},
    ("protection_zone", "II"): {"vi": "Khu vực II", "en": "Zone II"},
    ("band", "2.4GHz"): {"vi": "2,4 GHz", "en": "2.4 GHz"},
    ("band", "5GHz"): {"vi": "5 GHz", "en": "5 GHz"},
    ("band", "dual"): {"vi": "Hai băng tần", "en": "Dual band"},
    ("site_kind", "market"): {"vi": "Chợ", "en": "Market"},
    ("site_kind", "park"): {"vi": "Công viên", "en": "Park"},
    ("site_kind", "public_building"): {"vi": "Công trình công cộng", "en": "Public building"},
    ("site_kind", "beach"): {"vi": "Bãi biển", "en": "Beach"},
    ("site_kind", "street"): {"vi": "Đường phố", "en": "Street"},
}


# How each declared unit is written in either language (a field's `unit` is a key here).
UNITS: dict[str, dict[str, str]] = {
    "m": {"vi": "m", "en": "m"},
    "mm": {"vi": "mm", "en": "mm"},
    "m²": {"vi": "m²", "en": "m²"},
    "km²": {"vi": "km²", "en": "km²"},
    "%": {"vi": "%", "en": "%"},
    "W": {"vi": "W", "en": "W"},
    "kW": {"vi": "kW", "en": "kW"},
    "years": {"vi": "năm", "en": "years"},
}

# The kinds of change a versioned layer's history records (etl.load, gisapp.land.edits).
CHANGE_KINDS: dict[str, dict[str, str]] = {
    "create": {"vi": "Tạo mới", "en": "Created"},
    "insert": {"vi": "Nhập mới", "en": "Imported"},
    "update": {"vi": "Cập nhật", "en": "Updated"},
    "split": {"vi": "Tách thửa", "en": "Split"},
    "merge": {"vi": "Hợp thửa", "en": "Merged"},
}


def unit_name(unit: str | None) -> dict[str, str] | None:
    """A declared unit by language; a unit missing from UNITS is written as declared."""
    if unit is None:
        return None
    return dict(UNITS.get(unit) or {lang: unit for lang in LANGUAGES})


def change_names() -> dict[str, dict[str, str]]:
    """{kind: {lang: name}} of every change kind a layer's history may record."""
    return {kind: dict(names) for kind, names in CHANGE_KINDS.items()}


def value_name(field_name: str, value: str) -> dict[str, str] | None:
    """The names of one coded value by language, or None when it has none."""
    if field_name in LAND_USE_FIELDS:
        known = LAND_USE_CODES.get(value.strip().upper()) if value else None
        return dict(known.name) if known else None
    names = NAMES.get((field_name, value))
    return dict(names) if names else None


def value_names(field: Field) -> dict[str, dict[str, str]]:
    """Names of every value a field may hold, {value: {lang: name}}; empty for free text."""
    if field.name in LAND_USE_FIELDS:
        return {code: dict(c.name) for code, c in LAND_USE_CODES.items()}
    return {value: names for value in field.choices
            if (names := value_name(field.name, value)) is not None}
