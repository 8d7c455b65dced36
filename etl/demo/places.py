"""Names and places of the demo city: wards, former wards, streets, landmarks (data only).

The former-ward mapping is ILLUSTRATIVE: it uses real pre-2025 ward codes and names of Da
Nang where we know them, grouped plausibly under the 2025 wards; it is not the official
merger list (Resolution 1659/NQ-UBTVQH15), and exists so the demo exercises the
(ward, former ward, sheet, parcel) key.
"""
from __future__ import annotations

# New ward code -> (share of the demo parcels, former units (code, name) in the order their
# bands are laid out across the ward).
WARDS: dict[str, tuple[float, tuple[tuple[str, str], ...]]] = {
    "20242": (0.24, (("20233", "Thạch Thang"), ("20236", "Hải Châu I"),
                     ("20239", "Hải Châu II"), ("20242", "Phước Ninh"), ("20248", "Nam Dương"),
                     ("20251", "Bình Hiên"), ("20254", "Bình Thuận"))),
    "20275": (0.18, (("20269", "An Hải Bắc"), ("20275", "Phước Mỹ"), ("20278", "An Hải Đông"))),
    "20209": (0.16, (("20203", "Tam Thuận"), ("20206", "Thanh Khê Tây"),
                     ("20207", "Thanh Khê Đông"), ("20209", "Xuân Hà"))),
    "20257": (0.16, (("20245", "Hòa Thuận Tây"), ("20246", "Hòa Thuận Đông"),
                     ("20257", "Hòa Cường Bắc"), ("20258", "Hòa Cường Nam"))),
    "20263": (0.13, (("20260", "Thọ Quang"), ("20263", "Nại Hiên Đông"), ("20266", "Mân Thái"))),
    "20285": (0.13, (("20281", "Mỹ An"), ("20284", "Khuê Mỹ"), ("20285", "Hoà Quý"))),
}

# Pre-2025 district of each new ward, for the issuing body on older certificates.
OLD_DISTRICTS = {"20242": "Hải Châu", "20275": "Sơn Trà", "20209": "Thanh Khê",
                 "20257": "Hải Châu", "20263": "Sơn Trà", "20285": "Ngũ Hành Sơn"}

DRAGON_BRIDGE = (108.22705602, 16.06114045)

# Han River centreline, mouth to south (lon, lat), through real points.
HAN_RIVER = ((108.2190, 16.1140), (108.2215, 16.1040), (108.2250, 16.0850),
             (108.2265, 16.0722), DRAGON_BRIDGE, (108.2318, 16.0485), (108.2360, 16.0300),
             (108.2450, 16.0050), (108.2500, 15.9850))
RIVER_HALF_WIDTH_M = 130.0

# East coast (My Khe / Non Nuoc beaches), north to south: the sea lies east of it.
COAST = ((108.2600, 16.1000), (108.2470, 16.0800), (108.2500, 16.0550), (108.2580, 16.0300),
         (108.2700, 16.0000), (108.2830, 15.9700))

# (name, lon, lat, radius_x m, radius_y m)
LAKES = (("Hồ công viên 29/3", 108.2040, 16.0640, 160.0, 110.0),
         ("Hồ Bàu Trảng", 108.1880, 16.0700, 130.0, 90.0),
         ("Hồ Đầm Rong", 108.2230, 16.0420, 110.0, 80.0))

# Hills: (name, lon, lat, height m, sigma m)
HILLS = (("Sơn Trà", 108.2780, 16.1180, 600.0, 2200.0),
         ("Ngũ Hành Sơn", 108.2636, 16.0036, 100.0, 180.0))

# (id, name, lon, lat, zone I radius m, zone II radius m, decision)
HERITAGE = (
    ("DT-CHAM", "Bảo tàng Điêu khắc Chăm", 108.22328166, 16.06040135, 60.0, 150.0,
     "Quyết định 2383/QĐ-BVHTTDL"),
    ("DT-NHATHO", "Nhà thờ Chính tòa Đà Nẵng", 108.22301524, 16.06670542, 40.0, 100.0,
     "Quyết định 1217/QĐ-UBND"),
    ("DT-NHS", "Danh thắng Ngũ Hành Sơn", 108.2636, 16.0036, 400.0, 800.0,
     "Quyết định 1419/QĐ-TTg"),
)

# Land use of the parcels inside a heritage site's zone I.
HERITAGE_LAND_USE = {"DT-CHAM": "DDD", "DT-NHATHO": "TON", "DT-NHS": "DDD"}

# Wi-Fi sites: (name, kind, lon, lat)
WIFI_SITES = (
    ("Chợ Hàn", "market", 108.2245, 16.0684), ("Chợ Cồn", "market", 108.2147, 16.0680),
    ("Chợ Bắc Mỹ An", "market", 108.2430, 16.0470), ("Chợ An Hải Đông", "market", 108.2365, 16.0640),
    ("Công viên Biển Đông", "park", 108.2470, 16.0700), ("Công viên APEC", "park", 108.2240, 16.0590),
    ("Công viên 29/3", "park", 108.2050, 16.0620),
    ("Trung tâm Hành chính thành phố", "public_building", 108.2212, 16.0771),
    ("Nhà hát Trưng Vương", "public_building", 108.2230, 16.0735),
    ("Thư viện Khoa học Tổng hợp", "public_building", 108.2175, 16.0690),
    ("Bãi biển Mỹ Khê", "beach", 108.2478, 16.0620), ("Bãi biển Phạm Văn Đồng", "beach", 108.2462, 16.0720),
    ("Bãi biển Non Nước", "beach", 108.2680, 16.0100),
)

# Main streets (every ~400 m), roughly by prominence.
MAIN_STREETS = (
    "Bạch Đằng", "Trần Phú", "Lê Duẩn", "Nguyễn Văn Linh", "Hùng Vương", "Ông Ích Khiêm",
    "Điện Biên Phủ", "Võ Văn Kiệt", "Ngô Quyền", "Phạm Văn Đồng", "Nguyễn Tri Phương",
    "Hoàng Diệu", "Trưng Nữ Vương", "Lê Đình Dương", "Nguyễn Văn Thoại", "Trần Hưng Đạo",
    "Nguyễn Hữu Thọ", "Lê Văn Hiến", "Hàm Nghi", "Lê Lợi", "Phan Châu Trinh", "Quang Trung",
    "Nguyễn Chí Thanh", "Hải Phòng", "Lý Thường Kiệt", "Hà Huy Tập", "Nguyễn Tất Thành",
    "Trường Sa", "Hồ Nghinh", "Võ Nguyên Giáp", "Núi Thành", "Duy Tân", "2 Tháng 9",
    "30 Tháng 4", "Cách Mạng Tháng 8", "Tôn Đức Thắng", "Lê Thanh Nghị", "Xô Viết Nghệ Tĩnh",
)

# Residential streets.
MINOR_STREETS = (
    "Yên Bái", "Lý Tự Trọng", "Thái Phiên", "Hoàng Văn Thụ", "Lê Hồng Phong", "Pasteur",
    "Nguyễn Thị Minh Khai", "Phan Đình Phùng", "Lê Thánh Tôn", "Trần Quốc Toản", "Hải Hồ",
    "Đống Đa", "Tăng Bạt Hổ", "Nguyễn Du", "Hoàng Hoa Thám", "Lê Độ", "Hà Huy Giáp",
    "Thanh Thủy", "Nguyễn Thái Học", "Phan Bội Châu", "Trần Bình Trọng", "Lê Đình Thám",
    "Tiểu La", "Huỳnh Thúc Kháng", "Lê Hữu Trác", "Nguyễn Công Trứ", "Ngô Gia Tự",
    "Phạm Hồng Thái", "Lê Lai", "Hùng Vương", "Trần Kế Xương", "Đào Duy Từ", "Lê Quý Đôn",
    "Nguyễn Thị Định", "Nguyễn Trãi", "Tôn Thất Thuyết", "Hoàng Kế Viêm", "Hồ Xuân Hương",
    "Châu Thị Vĩnh Tế", "An Thượng 1", "An Thượng 2", "Ngô Thì Sĩ", "Nguyễn Văn Thoại",
    "Lê Quang Đạo", "Phan Tứ", "Hồ Huân Nghiệp", "Đỗ Bá", "Loseby", "Morrison", "Hà Bổng",
    "Nguyễn Sơn Trà", "Dương Đình Nghệ", "Nguyễn Duy Hiệu", "Trần Bạch Đằng", "Mai Hắc Đế",
    "Ngũ Hành Sơn", "Chu Huy Mân", "Hoàng Sa", "Vân Đồn", "Nguyễn Phan Vinh", "Trần Nhân Tông",
    "Lý Nam Đế", "Lê Văn Duyệt", "Nguyễn Công Hoan", "Khúc Hạo", "Lê Tấn Trung",
    "Tô Hiến Thành", "Đinh Công Tráng", "Nguyễn Đình Chiểu", "Lê Văn Hưu", "Phan Huy Ích",
    "Hoài Thanh", "Tản Đà", "Hàn Mặc Tử", "Xuân Diệu", "Chế Lan Viên", "Nguyễn Bính",
    "Huy Cận", "Lưu Trọng Lư", "Trần Cao Vân", "Hà Khê", "Thái Thị Bôi", "Trường Chinh",
    "Kỳ Đồng", "Hàm Tử", "Đò Xu", "Nguyễn Hữu Thọ", "Lê Thanh Nghị", "Núi Thành",
    "Phan Thanh", "Nguyễn Hoàng", "Lê Đình Lý", "Hoàng Diệu", "Trần Tống", "Dũng Sĩ Thanh Khê",
    "Đinh Tiên Hoàng", "Phú Lộc", "Hà Thị Thân", "Nguyễn Lương Bằng", "Cù Chính Lan",
    "Hải Thượng Lãn Ông", "Võ Trường Toản", "Nguyễn Hiến Lê", "Tôn Thất Đạm", "Lê Sát",
)

# Numbered street series, used once the named residential streets run out.
STREET_SERIES = ("An Thượng", "Phần Lăng", "Mỹ An", "Nại Nam", "Đa Mặn", "Hoá Mỹ",
                 "Thanh Lương", "Hoà An")

FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi",
                "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trương", "Đoàn", "Mai", "Tôn", "Châu")
FAMILY_WEIGHTS = (32, 11, 10, 7, 5, 6, 5, 6, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 0.5, 0.5)
MIDDLE_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thanh", "Ngọc", "Xuân", "Tấn")
MIDDLE_FEMALE = ("Thị", "Thị", "Thị", "Ngọc", "Thanh", "Thu", "Kim", "Mỹ", "Phương", "Hồng")
GIVEN_MALE = ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Minh", "Nam",
              "Phong", "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Toàn", "Trung", "Tuấn", "Vinh",
              "Việt", "Hiếu", "Huy", "Lộc", "Tài")
GIVEN_FEMALE = ("Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai",
                "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Trang", "Tuyết",
                "Vân", "Yến", "Hằng", "Loan", "Thủy", "Diệu")

# Large lots: land use -> (holder organisation template, building use, zoning category).
INSTITUTIONS = {
    "DGD": ("Trường THCS {street}", "school", "public"),
    "DYT": ("Trạm Y tế phường {ward}", "clinic", "public"),
    "TSC": ("UBND phường {ward}", "office", "public"),
    "DCH": ("Ban Quản lý chợ {street}", "market", "commercial"),
    "DKV": ("Công ty Công viên Cây xanh Đà Nẵng", "park", "green"),
    "DVH": ("Trung tâm Văn hóa phường {ward}", "culture", "public"),
    "TON": ("Giáo xứ {street}", "church", "public"),
    "SKC": ("Công ty TNHH Cơ khí {street}", "workshop", "mixed"),
    "TMD": ("Công ty CP Thương mại {street}", "commercial", "commercial"),
}
INSTITUTION_WEIGHTS = {"DGD": 5, "DYT": 2, "TSC": 2, "DCH": 2, "DKV": 4, "DVH": 2, "TON": 1,
                       "SKC": 2, "TMD": 5}

ISSUERS_NEW = "Sở Tài nguyên và Môi trường thành phố Đà Nẵng"
ISSUER_OLD = "UBND quận {district}"
