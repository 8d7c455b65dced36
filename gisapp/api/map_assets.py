"""What map labels and icons need, built at set-up: glyph PBFs (`gisapp fonts build`) at
`/fonts/{fontstack}/{range}.pbf` and the icon sprite (`gisapp sprite build`) at
`/sprites/sprite[@2x].{json,png}`."""
from __future__ import annotations

from flask import Blueprint, Response

from gisapp.context import settings
from tiles.fonts import parse_range, parse_stacks, read_range
from tiles.sprite import read_sprite_file

bp = Blueprint("map_assets", __name__)

GLYPHS_PATH = "/fonts/{fontstack}/{range}.pbf"  # the style's `glyphs` template, after the root
CACHE_CONTROL = "public, max-age=86400"  # they change only when rebuilt at set-up
SPRITE_TYPES = {"json": "application/json", "png": "image/png"}


@bp.get("/fonts/<fontstack>/<span>.pbf")
def glyph_range(fontstack: str, span: str):
    body = read_range(settings().glyph_dir(), parse_stacks(fontstack), parse_range(span))
    return Response(body, mimetype="application/x-protobuf",
                    headers={"Cache-Control": CACHE_CONTROL})


@bp.get("/sprites/<filename>")
def sprite_file(filename: str):
    body = read_sprite_file(settings().sprite_dir(), filename)
    return Response(body, mimetype=SPRITE_TYPES[filename.rpartition(".")[2]],
                    headers={"Cache-Control": CACHE_CONTROL})
