"""Legacy Vietnamese encodings: exhaustive round trips, DOMAIN.md samples, detection."""
from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from etl.encodings import (DETECT_THRESHOLD, ENCODINGS, UnknownEncoding, convert,
                           decode_frame, detect, encode)
from etl.tone_placement import normalize_tone_placement, search_key

BASES = "aăâeêioôơuưy"
TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
LOWER = [unicodedata.normalize("NFC", b + t) for b in BASES for t in TONES] + ["đ"]
UPPER = [c.upper() for c in LOWER]
PHRASES = ["Đà Nẵng", "Đất ở tại đô thị", "Phường Hải Châu", "Đất trồng cây lâu năm",
           "Đất công trình giao thông", "Xã Hòa Vang", "Ngũ Hành Sơn", "Thanh Khê",
           "Đất rừng phòng hộ", "Cẩm Lệ", "Liên Chiểu", "Đường Nguyễn Văn Linh",
           "Đất nuôi trồng thủy sản", "Khuyến nông", "Trường học", "Cống thoát nước"]


def test_every_vietnamese_letter_has_134_forms():
    assert len(set(LOWER)) == 73 and len(set(UPPER)) == 73
    assert all(unicodedata.is_normalized("NFC", c) and len(c) == 1 for c in LOWER + UPPER)


@pytest.mark.parametrize("encoding", ["vni", "cp1258", "utf-8"])
@pytest.mark.parametrize("letter", LOWER + UPPER)
def test_every_letter_tone_and_case_round_trips(encoding, letter):
    legacy = encode(letter, encoding)
    assert all(ord(c) <= 0xFF for c in legacy)
    assert convert(legacy, encoding) == letter


@pytest.mark.parametrize("letter", LOWER + [c for c in UPPER if c in "ĂÂÊÔƠƯĐAEIOUY"])
def test_every_tcvn3_letter_round_trips(letter):
    legacy = encode(letter, "tcvn3")
    assert len(legacy) == 1 and ord(legacy) <= 0xFF
    assert convert(legacy, "tcvn3") == letter


def test_tcvn3_codes_are_one_byte_and_distinct():
    codes = [encode(c, "tcvn3") for c in LOWER]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("letter", [c for c in UPPER if c not in "ĂÂÊÔƠƯĐAEIOUY"])
def test_tcvn3_toned_capitals_come_back_in_all_capital_words(letter):
    # TCVN3 has no toned capitals: they were typed with lower-case codes in "H" fonts.
    word = "NG" + letter + "N"
    assert convert(encode(word, "tcvn3"), "tcvn3") == word
    assert convert(encode("N" + letter + "n", "tcvn3"), "tcvn3") == "N" + letter.lower() + "n"


@pytest.mark.parametrize("unicode_text, tcvn3, vni", [
    ("Đà Nẵng", "§µ N½ng", "Ñaø Naüng"),
    ("Đất ở tại đô thị", "§Êt ë t¹i ®« thÞ", "Ñaát ôû taïi ñoâ thò"),
    ("Phường Hải Châu", "Ph\xadêng H¶i Ch©u", "Phöôøng Haûi Chaâu"),
])
def test_domain_samples_convert(unicode_text, tcvn3, vni):
    assert convert(tcvn3, "tcvn3") == unicode_text
    assert convert(vni, "vni") == unicode_text
    assert encode(unicode_text, "tcvn3") == tcvn3
    assert encode(unicode_text, "vni") == vni


def test_vni_a_breve_hook_is_not_lost():
    # viparse gets ẳ wrong; the table must not.
    assert encode("ẳ", "vni") == "a\xfa" and convert("a\xfa", "vni") == "ẳ"
    assert convert("A\xda", "vni") == "Ẳ"


def test_vni_title_case_with_lower_case_marks_decodes():
    assert convert("Aùnh Ñoâng", "vni") == "Ánh Đông"


def test_cp1258_combining_tones_come_out_precomposed():
    legacy = encode("Hòa Vang", "cp1258")
    assert "\xcc" in legacy  # the combining grave of Windows-1258
    assert convert(legacy, "cp1258") == "Hòa Vang"
    assert convert("Ho\xcca", "cp1258") == "Hòa"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_phrases_round_trip(encoding):
    for phrase in PHRASES:
        assert convert(encode(phrase, encoding), encoding) == phrase


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_detect_names_the_encoding_of_a_column(encoding):
    found, confidence = detect([encode(p, encoding) for p in PHRASES])
    assert found == encoding
    assert confidence >= 0.8


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("phrase", PHRASES[:4])
def test_detect_a_single_value_above_threshold(encoding, phrase):
    found, confidence = detect([encode(phrase, encoding)])
    assert (found, confidence >= DETECT_THRESHOLD) == (encoding, True)


def test_detect_ascii_and_already_unicode():
    assert detect(["Hai Chau", "123", ""]) == ("ascii", 1.0)
    assert detect(["Phường Hải Châu"]) == ("unicode", 1.0)


def test_unknown_encoding_names_the_allowed_ones():
    with pytest.raises(UnknownEncoding, match="allowed: utf-8, tcvn3, vni, cp1258"):
        convert("x\xe0", "koi8-r")


def test_decode_frame_detects_each_column_separately():
    frame = pd.DataFrame({
        "name": [encode(p, "tcvn3") for p in PHRASES[:5]],
        "owner": [encode(p, "vni") for p in PHRASES[5:10]],
        "code": ["ODT", "CLN", "DGT", "ODT", "ONT"],
        "area": [1.5, 2.0, 3.0, 4.0, 5.0],
    })
    out, report = decode_frame(frame, None)
    assert out["name"].tolist() == PHRASES[:5]
    assert out["owner"].tolist() == PHRASES[5:10]
    assert out["code"].tolist() == frame["code"].tolist()
    assert report["name"]["encoding"] == "tcvn3" and report["name"]["changed"] == 5
    assert report["owner"]["encoding"] == "vni" and report["owner"]["converted"]
    assert report["code"] == {"encoding": "ascii", "confidence": 1.0, "converted": False,
                              "changed": 0, "lost_u_horn": []}
    assert "area" not in report


def test_decode_frame_honours_an_override():
    frame = pd.DataFrame({"name": [encode("Hòa Vang", "cp1258"), None]})
    out, report = decode_frame(frame, "windows-1258")
    assert out["name"].tolist()[0] == "Hòa Vang" and out["name"].isna().tolist()[1]
    assert report["name"]["encoding"] == "cp1258" and report["name"]["confidence"] == 1.0


def test_decode_frame_flags_tcvn3_values_that_lost_their_u_horn():
    lost = encode("Cống thoát nước", "tcvn3").replace("\xad", "")
    frame = pd.DataFrame({"name": [encode("Phường Hải Châu", "tcvn3"), lost]})
    out, report = decode_frame(frame, "tcvn3")
    assert out["name"].tolist()[1] == "Cống thoát nớc"
    assert report["name"]["lost_u_horn"] == [1]


def test_decode_frame_leaves_an_unsure_column_alone():
    frame = pd.DataFrame({"name": ["H\xf2a"]})  # ũ in TCVN3, ị in VNI: no way to tell
    out, report = decode_frame(frame, None)
    assert report["name"]["confidence"] < DETECT_THRESHOLD
    assert out["name"].tolist() == ["H\xf2a"] and not report["name"]["converted"]


@pytest.mark.parametrize("old, new", [("Hòa", "Hoà"), ("khỏe", "khoẻ"), ("Thúy", "Thuý"),
                                      ("HÒA", "HOÀ")])
def test_tone_placement_styles_convert_both_ways(old, new):
    assert normalize_tone_placement(old, "new") == new
    assert normalize_tone_placement(new, "old") == old
    assert search_key(old) == search_key(new)


@pytest.mark.parametrize("word", ["quý", "hoàn", "khuyến", "thuở", "Cường"])
def test_tone_placement_keeps_syllables_where_styles_agree(word):
    assert normalize_tone_placement(word, "old") == word
    assert normalize_tone_placement(word, "new") == word
