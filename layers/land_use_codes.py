"""Cadastral land-use codes with Vietnamese and English names, both code generations.

Source: Land Law 2024 and Circular 08/2024/TT-BTNMT (the 2024 list); Circular 28/2014/TT-BTNMT
(the 2014 list that legacy data still carries), as summarised in DOMAIN.md §2, marked there
"to confirm". This is data: correct a name here without touching code. Zoning categories
are a different list and do not belong here.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field


@dataclass(frozen=True)
class LandUseCode:
    """One code: names, and the generations (2014, 2024) that define it."""

    code: str
    name: dict[str, str] = dc_field(hash=False)  # by language: {"vi": …, "en": …}
    generations: tuple[int, ...] = (2014, 2024)


_CODES = (
    LandUseCode("LUC", {"vi": "Đất chuyên trồng lúa", "en": "Specialised paddy land"}),
    LandUseCode("LUK", {"vi": "Đất trồng lúa còn lại", "en": "Other paddy land"}),
    LandUseCode("HNK", {"vi": "Đất trồng cây hằng năm khác", "en": "Other annual crops"}),
    LandUseCode("CLN", {"vi": "Đất trồng cây lâu năm", "en": "Perennial crops"}),
    LandUseCode("RDD", {"vi": "Đất rừng đặc dụng", "en": "Special-use forest"}),
    LandUseCode("RPH", {"vi": "Đất rừng phòng hộ", "en": "Protection forest"}),
    LandUseCode("RSX", {"vi": "Đất rừng sản xuất", "en": "Production forest"}),
    LandUseCode("NTS", {"vi": "Đất nuôi trồng thủy sản", "en": "Aquaculture"}),
    LandUseCode("NKH", {"vi": "Đất nông nghiệp khác", "en": "Other agricultural land"}),
    LandUseCode("ODT", {"vi": "Đất ở tại đô thị", "en": "Urban residential land"}),
    LandUseCode("ONT", {"vi": "Đất ở tại nông thôn", "en": "Rural residential land"}),
    LandUseCode("TSC", {"vi": "Đất xây dựng trụ sở cơ quan", "en": "Government offices"}),
    LandUseCode("CQP", {"vi": "Đất quốc phòng", "en": "Defence"}),
    LandUseCode("CAN", {"vi": "Đất an ninh", "en": "Security"}),
    LandUseCode("DVH", {"vi": "Đất xây dựng cơ sở văn hóa", "en": "Culture"}),
    LandUseCode("DYT", {"vi": "Đất xây dựng cơ sở y tế", "en": "Health"}),
    LandUseCode("DGD", {"vi": "Đất xây dựng cơ sở giáo dục và đào tạo", "en": "Education and training"}),
    LandUseCode("DTT", {"vi": "Đất xây dựng cơ sở thể dục thể thao", "en": "Sport"}),
    LandUseCode("DKH", {"vi": "Đất xây dựng cơ sở khoa học công nghệ", "en": "Science and technology"}),
    LandUseCode("DXH", {"vi": "Đất xây dựng cơ sở xã hội", "en": "Social services"}),
    LandUseCode("TMD", {"vi": "Đất thương mại, dịch vụ", "en": "Commercial and services"}),
    LandUseCode("SKC", {"vi": "Đất cơ sở sản xuất phi nông nghiệp", "en": "Non-agricultural production"}),
    LandUseCode("SKK", {"vi": "Đất khu công nghiệp", "en": "Industrial park"}),
    LandUseCode("SKN", {"vi": "Đất cụm công nghiệp", "en": "Industrial cluster"}),
    LandUseCode("DGT", {"vi": "Đất công trình giao thông", "en": "Transport"}),
    LandUseCode("DTL", {"vi": "Đất công trình thủy lợi", "en": "Water works"}),
    LandUseCode("DCT", {"vi": "Đất công trình cấp nước, thoát nước", "en": "Water supply and drainage"},
                (2024,)),
    LandUseCode("DNL", {"vi": "Đất công trình năng lượng, chiếu sáng công cộng",
                "en": "Energy and public lighting"}),
    LandUseCode("DBV", {"vi": "Đất công trình bưu chính, viễn thông, công nghệ thông tin",
                "en": "Post, telecom and IT"}),
    LandUseCode("DDD", {"vi": "Đất có di tích lịch sử - văn hóa, danh lam thắng cảnh",
                "en": "Heritage and scenic sites"}, (2024,)),
    LandUseCode("DDT", {"vi": "Đất có di tích lịch sử - văn hóa", "en": "Historical and cultural sites"},
                (2014,)),
    LandUseCode("DDL", {"vi": "Đất danh lam thắng cảnh", "en": "Scenic sites"}, (2014,)),
    LandUseCode("DRA", {"vi": "Đất công trình xử lý chất thải", "en": "Waste treatment"}),
    LandUseCode("DCH", {"vi": "Đất chợ", "en": "Markets"}),
    LandUseCode("DKV", {"vi": "Đất khu vui chơi, giải trí công cộng", "en": "Public recreation"}),
    LandUseCode("TON", {"vi": "Đất tôn giáo", "en": "Religious land"}),
    LandUseCode("TIN", {"vi": "Đất tín ngưỡng", "en": "Folk worship"}),
    LandUseCode("NTD", {"vi": "Đất nghĩa trang, nhà tang lễ", "en": "Cemeteries and funeral homes"}),
    LandUseCode("SON", {"vi": "Đất sông, ngòi, kênh, rạch, suối", "en": "Rivers and canals"}),
    LandUseCode("MNC", {"vi": "Đất có mặt nước chuyên dùng", "en": "Special-use water surfaces"}),
    LandUseCode("PNK", {"vi": "Đất phi nông nghiệp khác", "en": "Other non-agricultural land"}),
    LandUseCode("BCS", {"vi": "Đất bằng chưa sử dụng", "en": "Unused flat land"}),
    LandUseCode("DCS", {"vi": "Đất đồi núi chưa sử dụng", "en": "Unused hilly land"}),
    LandUseCode("NCS", {"vi": "Núi đá không có rừng cây", "en": "Rocky land without forest"}),
)

LAND_USE_CODES: dict[str, LandUseCode] = {c.code: c for c in _CODES}


def describe_land_use(code: str | None) -> dict | None:
    """{code, name_vi, name_en, generations} for a code; unknown codes keep null names."""
    if code is None:
        return None
    known = LAND_USE_CODES.get(code.strip().upper())
    if known is None:
        return {"code": code, "name_vi": None, "name_en": None, "generations": []}
    return {"code": known.code, "name_vi": known.name["vi"], "name_en": known.name["en"],
            "generations": list(known.generations)}
