"""Glyphs for map labels: `/fonts/{fontstack}/{range}.pbf`, built by `gisapp fonts build`."""
from __future__ import annotations

from flask import Blueprint, Response

from gisapp.context import settings
from gisapp.errors import NotFound, Unavailable
from tiles.fonts import FontError, GlyphsNotBuilt, parse_range, parse_stacks, read_range

bp = Blueprint("fonts", __name__)

GLYPHS_PATH = "/fonts/{fontstack}/{range}.pbf"  # the style's `glyphs` template, after the root
CACHE_CONTROL = "public, max-age=86400"  # glyphs change only when the fonts are rebuilt


@bp.get("/fonts/<fontstack>/<span>.pbf")
def glyph_range(fontstack: str, span: str):
    try:
        body = read_range(settings().glyph_dir(), parse_stacks(fontstack), parse_range(span))
    except FontError as exc:
        raise NotFound(str(exc)) from None
    except GlyphsNotBuilt as exc:
        raise Unavailable(str(exc)) from None
    return Response(body, mimetype="application/x-protobuf",
                    headers={"Cache-Control": CACHE_CONTROL})
