"""Cartographic themes of the map style: light (the registry's own colours), dark,
cadastral (a black-and-white print look with pale land-use tints) and high contrast.

A palette never names a layer: it maps the colours a layer declares (fill, line, casing,
label) to its own, so a new layer is drawn in every theme by its declaration alone.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Callable

ColourMap = Callable[[str], str]


def _hls(colour: str) -> tuple[float, float, float]:
    value = colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return colorsys.rgb_to_hls(r, g, b)


def _hex(h: float, lightness: float, saturation: float) -> str:
    r, g, b = colorsys.hls_to_rgb(h, min(max(lightness, 0.0), 1.0), min(max(saturation, 0.0), 1.0))
    return "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in (r, g, b)))


def _same(colour: str) -> str:
    return colour


def _remap(light: tuple[float, float], saturation: float) -> ColourMap:
    """Lightness to `low + span * L`, saturation scaled: keeps hues apart, moves the tone."""
    low, span = light

    def remap(colour: str) -> str:
        h, lightness, s = _hls(colour)
        return _hex(h, low + span * lightness, s * saturation)
    return remap


def muted(colour: str, share: float) -> str:
    """The colour with its saturation scaled by `share` (0: grey of the same lightness)."""
    h, lightness, s = _hls(colour)
    return _hex(h, lightness, s * share)


def _constant(colour: str) -> ColourMap:
    return lambda _: colour


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    value = colour.lstrip("#")
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _contrasting(background: str, ratio: float, saturation: float = 1.0) -> ColourMap:
    """Keep the hue, move the lightness away from the background until the colour reaches
    `ratio` against it (WCAG: 3 for shapes and large text, 4.5 for lines, 7 for text)."""
    darker = luminance(background) > 0.18

    def remap(colour: str) -> str:
        h, lightness, s = _hls(colour)
        out = _hex(h, lightness, s * saturation)
        while contrast_ratio(out, background) < ratio and 0.0 < lightness < 1.0:
            lightness = max(lightness - 0.02, 0.0) if darker else min(lightness + 0.02, 1.0)
            out = _hex(h, lightness, s * saturation)
        return out
    return remap


@dataclass(frozen=True)
class Palette:
    """One theme: page colours plus how each kind of declared colour is redrawn."""

    id: str
    title: dict[str, str]  # by language
    background: str
    text: str
    halo: str
    fill: ColourMap = _same
    line: ColourMap = _same
    outline: ColourMap = _same
    road: ColourMap = _same  # lines drawn with a casing (roads)
    casing: ColourMap = _same
    label: ColourMap = _same
    fill_opacity: float = 1.0  # times the declared opacity
    min_fill_opacity: float = 0.0  # no fill fainter than this (a faint fill has no contrast)
    outline_width: float = 1.0  # times the usual outline width
    details: bool = False  # print a label's detail field (land-use code under parcel number)
    halo_width: float = 1.4  # px of halo around label letters
    point_stroke: str | None = None  # the ring around point symbols; None: the halo colour


PALETTES: dict[str, Palette] = {
    "light": Palette("light", {"vi": "Sáng", "en": "Light"}, background="#f4f1ea", text="#333333",
                     halo="#ffffff"),
    "dark": Palette("dark", {"vi": "Tối", "en": "Dark"}, background="#181c23", text="#e4e6eb",
                    halo="#181c23",
                    fill=_remap((0.14, 0.36), 0.55), line=_remap((0.35, 0.45), 0.7),
                    outline=_remap((0.3, 0.35), 0.5), road=_remap((0.22, 0.38), 0.45),
                    casing=_constant("#0b0d11"), label=_remap((0.72, 0.22), 0.6),
                    fill_opacity=0.9),
    "cadastral": Palette("cadastral", {"vi": "Địa chính (in)", "en": "Cadastral (print)"},
                         background="#ffffff", text="#111111", halo="#ffffff",
                         fill=_remap((0.86, 0.12), 0.55), line=_remap((0.0, 0.35), 0.6),
                         outline=_constant("#1a1a1a"), road=_constant("#ffffff"),
                         casing=_constant("#404040"), label=_remap((0.0, 0.3), 0.5),
                         fill_opacity=0.7, outline_width=1.2, details=True),
    # WCAG-minded: black text on wide white halos (21:1), every fill at least 3:1 and every
    # line 4.5:1 against the white ground, no fill under 40 %, black outlines twice as wide,
    # roads white between black casings, points ringed in black.
    "contrast": Palette("contrast", {"vi": "Tương phản cao", "en": "High contrast"}, background="#ffffff",
                        text="#000000", halo="#ffffff",
                        fill=_contrasting("#ffffff", 3.0, 1.15),
                        line=_contrasting("#ffffff", 4.5, 1.1),
                        outline=_constant("#000000"), road=_constant("#ffffff"),
                        casing=_constant("#000000"), label=_contrasting("#ffffff", 7.0),
                        min_fill_opacity=0.4, outline_width=2.0, halo_width=2.2,
                        point_stroke="#000000"),
}
DEFAULT_PALETTE = "light"


class UnknownPalette(LookupError):
    """A theme name the style does not know."""

    def __init__(self, name: str):
        super().__init__(f"unknown map theme {name!r}; themes: {', '.join(PALETTES)}")


def get_palette(name: str) -> Palette:
    """The palette of this name, or UnknownPalette."""
    try:
        return PALETTES[name]
    except KeyError:
        raise UnknownPalette(name) from None
