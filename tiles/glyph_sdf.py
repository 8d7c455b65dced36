"""Signed distance fields of font glyphs, as MapLibre's glyph PBFs carry them.

Computed from the glyph's outline (not from a rendered bitmap), like fontnik's
sdf-glyph-foundry: at 24 px per em, each pixel of the bitmap (the glyph's box plus a
3 px border) holds its distance to the nearest outline edge, 8 distance units per pixel,
with the edge at 192 (inside brighter, outside darker), which is what MapLibre's text
shader expects.
"""
from __future__ import annotations

import math

import freetype
import numpy as np

from tiles.glyph_pbf import Glyph

EM_PX = 24  # glyph PBFs are rendered at 24 px per em
BORDER = 3  # px of SDF around each glyph
RADIUS = 8.0  # px of distance spanning the 0-255 range
CUTOFF = 0.25  # where the edge sits in that range: 255 * (1 - 0.25) ≈ 192
CURVE_STEPS = 8  # straight pieces per Bézier segment; at 24 px a piece is under 1/4 px
LOAD_FLAGS = freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP


def open_face(path: str) -> freetype.Face:
    """A FreeType face sized at 24 px per em."""
    face = freetype.Face(path)
    face.set_char_size(EM_PX * 64, 0, 72, 72)
    return face


def ascender_px(face: freetype.Face) -> int:
    """The face's ascender in px; glyph tops are given relative to it, as fontnik does."""
    return round(face.ascender * EM_PX / face.units_per_EM)


def _quadratic(p0, p1, p2) -> list[tuple[float, float]]:
    return [((1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t * t * p2[0],
             (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t * t * p2[1])
            for t in (i / CURVE_STEPS for i in range(1, CURVE_STEPS + 1))]


def _cubic(p0, p1, p2, p3) -> list[tuple[float, float]]:
    out = []
    for t in (i / CURVE_STEPS for i in range(1, CURVE_STEPS + 1)):
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
        out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                    a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


def outline_segments(outline: freetype.Outline) -> np.ndarray:
    """The outline's contours as straight segments (x0, y0, x1, y1) in px, y up."""
    rings: list[list[tuple[float, float]]] = []

    def point(v) -> tuple[float, float]:
        return (v.x / 64.0, v.y / 64.0)

    def move_to(a, _):
        rings.append([point(a)])

    def line_to(a, _):
        rings[-1].append(point(a))

    def conic_to(a, b, _):
        rings[-1].extend(_quadratic(rings[-1][-1], point(a), point(b)))

    def cubic_to(a, b, c, _):
        rings[-1].extend(_cubic(rings[-1][-1], point(a), point(b), point(c)))

    outline.decompose(None, move_to=move_to, line_to=line_to, conic_to=conic_to,
                      cubic_to=cubic_to)
    segments = []
    for ring in rings:
        closed = ring + [ring[0]] if ring[0] != ring[-1] else ring
        segments += [(*a, *b) for a, b in zip(closed, closed[1:]) if a != b]
    return np.array(segments, dtype=np.float64).reshape(-1, 4)


def signed_distances(segments: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Distance from each point to the outline, negative inside (non-zero winding)."""
    px, py = xs[:, None], ys[:, None]
    x0, y0, x1, y1 = (segments[:, i][None, :] for i in range(4))
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    distance = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy)).min(axis=1)
    side = (x1 - x0) * (py - y0) - (px - x0) * (y1 - y0)  # > 0: point left of the edge
    up = (y0 <= py) & (y1 > py) & (side > 0)
    down = (y1 <= py) & (y0 > py) & (side < 0)
    winding = up.sum(axis=1) - down.sum(axis=1)
    return np.where(winding != 0, -distance, distance)


def render_glyph(face: freetype.Face, codepoint: int, ascender: int) -> Glyph:
    """The glyph of one code point: its SDF bitmap and metrics in px."""
    face.load_char(codepoint, LOAD_FLAGS)
    slot = face.glyph
    advance = round(slot.linearHoriAdvance / 65536.0)
    segments = outline_segments(slot.outline)
    if len(segments) == 0:  # a space: metrics only
        return Glyph(codepoint, b"", 0, 0, 0, 0, advance)
    left = math.floor(segments[:, [0, 2]].min())
    right = math.ceil(segments[:, [0, 2]].max())
    bottom = math.floor(segments[:, [1, 3]].min())
    top = math.ceil(segments[:, [1, 3]].max())
    width, height = right - left, top - bottom
    columns = np.arange(width + 2 * BORDER) + left - BORDER + 0.5
    rows = top + BORDER - 0.5 - np.arange(height + 2 * BORDER)  # bitmap rows run downwards
    xs, ys = np.meshgrid(columns, rows)
    distance = signed_distances(segments, xs.ravel(), ys.ravel())
    values = 255.0 - 255.0 * (distance / RADIUS + CUTOFF)
    bitmap = np.clip(np.rint(values), 0, 255).astype(np.uint8).tobytes()
    return Glyph(codepoint, bitmap, width, height, left, top - ascender, advance)
