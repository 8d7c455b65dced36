"""Cadastral land-use codes with Vietnamese and English names, both code generations.

Source: Land Law 2024 and Circular 08/2024/TT-BTNMT (the 2024 list); Circular 28/2014/TT-BTNMT
(the 2014 list that legacy data still carries), as summarised in DOMAIN.md §2, marked there
"to confirm". This is data: correct a name here without touching code. Zoning categories
are a different list and do not belong here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LandUseCode:
    """One code: names, and the generations (2014, 2024) that define it."""

    code: str
    name_vi: str
    name_en: str
    generations: tuple[int, ...] = (2014, 2024)


_CODES = (
    LandUseCode("LUC", "Đất chuyên trồng lúa", "Specialised paddy land"),
    LandUseCode("LUK", "Đất trồng lúa còn lại", "Other paddy land"),
    LandUseCode("HNK", "Đất trồng cây hằng năm khác", "Other annual crops"),
    LandUseCode("CLN", "Đất trồng cây lâu năm", "Perennial crops"),
    LandUseCode("RDD", "Đất rừng đặc dụng", "Special-use forest"),
    LandUseCode("RPH", "Đất rừng phòng hộ", "Protection forest"),
    LandUseCode("RSX", "Đất rừng sản xuất", "Production forest"),
    LandUseCode("NTS", "Đất nuôi trồng thủy sản", "Aquaculture"),
    LandUseCode("NKH", "Đất nông nghiệp khác", "Other agricultural land"),
    LandUseCode("ODT", "Đất ở tại đô thị", "Urban residential land"),
    LandUseCode("ONT", "Đất ở tại nông thôn", "Rural residential land"),
    LandUseCode("TSC", "Đất xây dựng trụ sở cơ quan", "Government offices"),
    LandUseCode("CQP", "Đất quốc phòng", "Defence"),
    LandUseCode("CAN", "Đất an ninh", "Security"),
    LandUseCode("DVH", "Đất xây dựng cơ sở văn hóa", "Culture"),
    LandUseCode("DYT", "Đất xây dựng cơ sở y tế", "Health"),
    LandUseCode("DGD", "Đất xây dựng cơ sở giáo dục và đào tạo", "Education and training"),
    LandUseCode("DTT", "Đất xây dựng cơ sở thể dục thể thao", "Sport"),
    LandUseCode("DKH", "Đất xây dựng cơ sở khoa học công nghệ", "Science and technology"),
    LandUseCode("DXH", "Đất xây dựng cơ sở xã hội", "Social services"),
    LandUseCode("TMD", "Đất thương mại, dịch vụ", "Commercial and services"),
    LandUseCode("SKC", "Đất cơ sở sản xuất phi nông nghiệp", "Non-agricultural production"),
    LandUseCode("SKK", "Đất khu công nghiệp", "Industrial park"),
    LandUseCode("SKN", "Đất cụm công nghiệp", "Industrial cluster"),
    LandUseCode("DGT", "Đất công trình giao thông", "Transport"),
    LandUseCode("DTL", "Đất công trình thủy lợi", "Water works"),
    LandUseCode("DCT", "Đất công trình cấp nước, thoát nước", "Water supply and drainage",
                (2024,)),
    LandUseCode("DNL", "Đất công trình năng lượng, chiếu sáng công cộng",
                "Energy and public lighting"),
    LandUseCode("DBV", "Đất công trình bưu chính, viễn thông, công nghệ thông tin",
                "Post, telecom and IT"),
    LandUseCode("DDD", "Đất có di tích lịch sử - văn hóa, danh lam thắng cảnh",
                "Heritage and scenic sites", (2024,)),
    LandUseCode("DDT", "Đất có di tích lịch sử - văn hóa", "Historical and cultural sites",
                (2014,)),
    LandUseCode("DDL", "Đất danh lam thắng cảnh", "Scenic sites", (2014,)),
    LandUseCode("DRA", "Đất công trình xử lý chất thải", "Waste treatment"),
    LandUseCode("DCH", "Đất chợ", "Markets"),
    LandUseCode("DKV", "Đất khu vui chơi, giải trí công cộng", "Public recreation"),
    LandUseCode("TON", "Đất tôn giáo", "Religious land"),
    LandUseCode("TIN", "Đất tín ngưỡng", "Folk worship"),
    LandUseCode("NTD", "Đất nghĩa trang, nhà tang lễ", "Cemeteries and funeral homes"),
    LandUseCode("SON", "Đất sông, ngòi, kênh, rạch, suối", "Rivers and canals"),
    LandUseCode("MNC", "Đất có mặt nước chuyên dùng", "Special-use water surfaces"),
    LandUseCode("PNK", "Đất phi nông nghiệp khác", "Other non-agricultural land"),
    LandUseCode("BCS", "Đất bằng chưa sử dụng", "Unused flat land"),
    LandUseCode("DCS", "Đất đồi núi chưa sử dụng", "Unused hilly land"),
    LandUseCode("NCS", "Núi đá không có rừng cây", "Rocky land without forest"),
)

LAND_USE_CODES: dict[str, LandUseCode] = {c.code: c for c in _CODES}


def describe_land_use(code: str | None) -> dict | None:
    """{code, name_vi, name_en, generations} for a code; unknown codes keep null names."""
    if code is None:
        return None
    known = LAND_USE_CODES.get(code.strip().upper())
    if known is None:
        return {"code": code, "name_vi": None, "name_en": None, "generations": []}
    return {"code": known.code, "name_vi": known.name_vi, "name_en": known.name_en,
            "generations": list(known.generations)}
