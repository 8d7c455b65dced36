"""Land records (LADM-style, kept small): parcels, parties, rights, land-use purposes.

A parcel's key is (unit code, former unit code, map sheet, parcel number): since the 2025
mergers one ward holds several former communes, each with its own sheet series.
`parcel_uid` is that key as one string, computed by PostgreSQL.
"""
from layers.model import (Access, Field, FieldType as T, Label, Layer, Overview, Style, Table,
                          Temporal)
from layers.sources import DEMO_CITY_ON_OSM

PARCEL_UID_SQL = (
    "ward_code || '-' || former_ward_code || '-' || sheet_no::text || '-' || parcel_no::text"
)

PARCELS = Layer(
    id="parcels",
    title={"vi": "Thửa đất", "en": "Land parcels"},
    theme="land",
    key=("ward_code", "former_ward_code", "sheet_no", "parcel_no"),
    geometry_type="MultiPolygon",
    search=("address", "street"),  # free text (plus the ward's name and the parcel number)
    # a z15 tile of central Da Nang holds ~3,000 parcels (500 KB, 45 ms), 2 px each: below
    # z16 tiles carry the overview, parcels merged by land use in 250 m cells
    minzoom=12,
    overview=Overview(maxzoom=15, group_by=("land_use",)),
    tile_max_features=5000,  # the densest z16 tile of the demo and 250k cities: ~1,650
    versioned=True,
    temporal=Temporal("valid_from", "valid_to", in_versions=True),  # each version's validity
    # outlines a muted brown, thinner than a zone's: a block of red outlines drowned the map
    style=Style("fill", "#fdd49e", outline="#9c6b53", width=0.8, opacity=0.5, label="parcel_no",
                by=("land_use", (("ODT", "#fdae6b"), ("ONT", "#fdd0a2"), ("TMD", "#e377c2"),
                                 ("CLN", "#a1d99b"), ("DGD", "#9e9ac8"), ("DYT", "#fb6a4a"),
                                 ("DVH", "#c994c7"), ("DGT", "#d9d9d9"), ("SKC", "#8c6d31"),
                                 ("TSC", "#6a51a3"), ("DKV", "#74c476"), ("DDD", "#b15928"),
                                 ("TON", "#ffff99"))),
                order=-2,  # land use under water, buildings and the planning overlays
                labels=(Label("parcel_no", minzoom=17, size=10, detail="land_use"),)),
    fields=(
        Field("ward_code", T.TEXT, {"vi": "Mã phường/xã", "en": "Ward code"}, required=True,
              sources=("MaXa", "ma_xa")),
        Field("former_ward_code", T.TEXT, {"vi": "Mã phường/xã cũ", "en": "Former ward code"},
              required=True,
              sources=("MaXaCu", "ma_xa_cu")),
        Field("sheet_no", T.INTEGER, {"vi": "Số tờ bản đồ", "en": "Map sheet number"},
              required=True,
              sources=("SoTo", "so_to")),
        Field("parcel_no", T.INTEGER, {"vi": "Số thửa", "en": "Parcel number"}, required=True,
              sources=("SoThua", "so_thua")),
        Field("parcel_uid", T.TEXT, {"vi": "Mã thửa", "en": "Parcel id"},
              generated=PARCEL_UID_SQL),
        Field("land_use", T.TEXT, {"vi": "Mục đích sử dụng", "en": "Land use"}, required=True,
              sources=("MucDich", "LoaiDat", "ma_dat")),
        Field("legal_area", T.FLOAT, {"vi": "Diện tích pháp lý", "en": "Legal area"}, unit="m²",
              sources=("DienTich", "dien_tich")),
        Field("address", T.TEXT, {"vi": "Địa chỉ", "en": "Address"},
              sources=("DiaChi", "dia_chi")),
        Field("street", T.TEXT, {"vi": "Đường", "en": "Street"},
              sources=("TenDuong", "ten_duong")),
        Field("use_term", T.TEXT, {"vi": "Thời hạn sử dụng", "en": "Term of use"},
              access=Access.STAFF,
              sources=("ThoiHan",)),
        Field("use_origin", T.TEXT, {"vi": "Nguồn gốc sử dụng", "en": "Origin of use"},
              access=Access.STAFF,
              sources=("NguonGoc",)),
        Field("certificate_no", T.TEXT, {"vi": "Số phát hành GCN", "en": "Certificate serial"},
              access=Access.STAFF, sources=("SoGCN", "so_gcn")),
        Field("register_no", T.TEXT, {"vi": "Số vào sổ", "en": "Register number"},
              access=Access.STAFF,
              sources=("SoVaoSo",)),
    ),
    description={"en": "Cadastral parcels: ward, map sheet and parcel number, land use, legal area."},
    source=DEMO_CITY_ON_OSM,
)

PARTIES = Table(
    id="parties",
    title={"vi": "Chủ sử dụng", "en": "Parties (holders)"},
    key=("party_id",),
    access=Access.PERSONAL,
    fields=(
        Field("party_id", T.TEXT, {"vi": "Mã chủ", "en": "Party id"},
              required=True, sources=("MaChu",)),
        Field("kind", T.TEXT, {"vi": "Loại chủ", "en": "Kind"}, choices=("person", "organisation"),
              access=Access.STAFF),
        Field("name", T.TEXT, {"vi": "Họ tên", "en": "Name"},
              required=True, access=Access.PERSONAL,
              sources=("HoTen",)),
        Field("id_number", T.TEXT, {"vi": "Số CCCD", "en": "ID number"}, access=Access.PERSONAL,
              sources=("CCCD",)),
        Field("birth_year", T.INTEGER, {"vi": "Năm sinh", "en": "Year of birth"},
              access=Access.PERSONAL,
              year=True),
        Field("address", T.TEXT, {"vi": "Địa chỉ thường trú", "en": "Address"},
              access=Access.PERSONAL),
    ),
)

RIGHTS = Table(
    id="rights",
    title={"vi": "Quyền sử dụng đất", "en": "Rights"},
    key=("parcel_uid", "party_id", "right_type"),
    access=Access.STAFF,
    fields=(
        Field("parcel_uid", T.TEXT, {"vi": "Mã thửa", "en": "Parcel id"}, required=True),
        Field("party_id", T.TEXT, {"vi": "Mã chủ", "en": "Party id"}, required=True),
        Field("right_type", T.TEXT, {"vi": "Loại quyền", "en": "Right type"}, required=True,
              choices=("use", "ownership", "lease")),
        Field("share", T.FLOAT, {"vi": "Tỷ lệ", "en": "Share"}),
        Field("certificate_no", T.TEXT, {"vi": "Số GCN", "en": "Certificate number"},
              access=Access.STAFF),
        Field("issued_on", T.DATE, {"vi": "Ngày cấp", "en": "Issued on"}, access=Access.STAFF),
        Field("issued_by", T.TEXT, {"vi": "Cơ quan cấp", "en": "Issued by"}, access=Access.STAFF),
    ),
)

LAND_USES = Table(
    id="parcel_land_uses",
    title={"vi": "Mục đích sử dụng của thửa", "en": "Parcel land-use purposes"},
    key=("parcel_uid", "land_use"),
    access=Access.PUBLIC,
    fields=(
        Field("parcel_uid", T.TEXT, {"vi": "Mã thửa", "en": "Parcel id"}, required=True),
        Field("land_use", T.TEXT, {"vi": "Mục đích", "en": "Land use"}, required=True),
        Field("area", T.FLOAT, {"vi": "Diện tích", "en": "Area"}, unit="m²"),
    ),
)
