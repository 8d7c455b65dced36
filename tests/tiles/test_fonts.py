"""Self-hosted glyphs: SDF glyph PBFs built from Debian's Noto fonts, Vietnamese complete."""
from __future__ import annotations

import numpy as np
import pytest

from tiles.fonts import (FONT_DIR, FONT_STACKS, FontError, build_fonts, is_built, parse_range,
                         parse_stacks, read_range)
from tiles.glyph_pbf import Glyph, decode_range, encode_range
from tiles.glyph_sdf import BORDER, ascender_px, open_face, render_glyph

VIETNAMESE = ("aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợ"
              "pqrstuùúủũụưừứửữựvxyỳýỷỹỵ")
LETTERS = VIETNAMESE + VIETNAMESE.upper()
LABEL_STACKS = ("Noto Sans Regular", "Noto Sans Bold")


def glyphs_of(fonts_dir, stack: str, start: int) -> dict[int, Glyph]:
    [(name, span, glyphs)] = decode_range(read_range(fonts_dir, (stack,), start))
    assert (name, span) == (stack, f"{start}-{start + 255}")
    return {g.id: g for g in glyphs}


@pytest.mark.parametrize("stack", LABEL_STACKS)
def test_every_vietnamese_letter_has_a_drawn_glyph(fonts_dir, stack):
    missing, wrong = [], []
    for letter in LETTERS:
        glyph = glyphs_of(fonts_dir, stack, ord(letter) // 256 * 256).get(ord(letter))
        if glyph is None or not glyph.bitmap:
            missing.append(letter)
        elif len(glyph.bitmap) != (glyph.width + 2 * BORDER) * (glyph.height + 2 * BORDER):
            wrong.append(letter)
    assert missing == [] and wrong == []


def test_vietnamese_needs_four_ranges_and_they_are_built(fonts_dir):
    starts = sorted({ord(c) // 256 * 256 for c in LETTERS + "\u0300\u0303"})
    assert starts == [0, 256, 768, 7680]
    for stack in FONT_STACKS:
        for start in starts:
            assert (fonts_dir / stack / f"{start}-{start + 255}.pbf").is_file()


def test_a_stacked_diacritic_sits_above_its_letter(fonts_dir):
    """ệ (e, circumflex, dot below) reaches above and below plain e."""
    plain = glyphs_of(fonts_dir, "Noto Sans Regular", 0)[ord("e")]
    stacked = glyphs_of(fonts_dir, "Noto Sans Regular", 7680)[ord("ệ")]
    assert stacked.top > plain.top and stacked.height > plain.height + 6
    assert stacked.advance == plain.advance


def test_sdf_is_bright_inside_and_dark_outside():
    face = open_face(str(FONT_DIR / FONT_STACKS["Noto Sans Bold"]))
    glyph = render_glyph(face, ord("l"), ascender_px(face))  # a plain stem
    sdf = np.frombuffer(glyph.bitmap, np.uint8).reshape(glyph.height + 6, glyph.width + 6)
    middle = sdf[sdf.shape[0] // 2, sdf.shape[1] // 2]
    assert middle > 200 and sdf[0, 0] < 100
    edge_row = sdf[sdf.shape[0] // 2]
    stem = face.glyph.metrics.width / 64  # the outline's width in px
    assert (edge_row >= 192).sum() == pytest.approx(stem, abs=1)  # inside the stem: ≥ the edge


def test_space_has_an_advance_and_no_bitmap():
    face = open_face(str(FONT_DIR / FONT_STACKS["Noto Sans Regular"]))
    space = render_glyph(face, ord(" "), ascender_px(face))
    assert space.bitmap == b"" and space.width == 0 and space.advance > 3


def test_glyph_message_round_trips():
    glyphs = [Glyph(65, bytes(range(49)), 1, 1, -2, -20, 14), Glyph(32, b"", 0, 0, 0, 0, 6)]
    [(name, span, back)] = decode_range(encode_range("Noto Sans Regular", 0, glyphs))
    assert (name, span, back) == ("Noto Sans Regular", "0-255", glyphs)


def test_a_stack_list_takes_each_glyph_from_the_first_stack(fonts_dir):
    both = ("Noto Sans Bold", "Noto Sans Regular")
    [(name, _, glyphs)] = decode_range(read_range(fonts_dir, both, 0))
    bold = glyphs_of(fonts_dir, "Noto Sans Bold", 0)
    assert name == ",".join(both)
    assert {g.id: g for g in glyphs} == bold


def test_a_range_without_glyphs_is_an_empty_set(fonts_dir):
    [(_, span, glyphs)] = decode_range(read_range(fonts_dir, ("Noto Sans Regular",), 19968))
    assert span == "19968-20223" and glyphs == []


@pytest.mark.parametrize("text", ["0-254", "1-256", "65536-65791", "a-b", "256-511.x", ""])
def test_malformed_ranges_are_refused(text):
    with pytest.raises(FontError, match="multiple of 256"):
        parse_range(text)


def test_unknown_stacks_are_named():
    assert parse_stacks("Noto Sans Bold,Noto Sans Regular") == ("Noto Sans Bold",
                                                                "Noto Sans Regular")
    with pytest.raises(FontError, match="Open Sans Regular"):
        parse_stacks("Noto Sans Bold,Open Sans Regular")


def test_a_second_build_does_nothing(fonts_dir):
    assert is_built(fonts_dir)
    report = build_fonts(fonts_dir)
    assert not report.built and report.seconds < 1
