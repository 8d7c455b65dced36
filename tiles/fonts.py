"""Self-hosted glyphs: font stacks built from Debian's Noto fonts into PBF ranges, and served.

`build_fonts` writes `<dir>/<stack>/<start>-<end>.pbf` for every 256-code-point range in
which the font has a glyph (Latin with Vietnamese, Greek, Cyrillic, punctuation…), plus a
manifest naming the font files it was built from; a second call with the same fonts and
builder does nothing. `read_range` answers MapLibre's `/fonts/{fontstack}/{range}.pbf`,
compositing a comma-separated stack list glyph by glyph (first stack wins).
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tiles.glyph_pbf import Glyph, decode_range, encode_range

FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONT_PACKAGE = "fonts-noto-core"  # the Debian package FONT_DIR's files come from
FONT_STACKS = {  # stack name as styles write it -> font file
    "Noto Sans Regular": "NotoSans-Regular.ttf",
    "Noto Sans Bold": "NotoSans-Bold.ttf",
    "Noto Sans Italic": "NotoSans-Italic.ttf",
}
BUILDER_VERSION = 1  # bump when the SDF or the metrics change, so caches are rebuilt
MANIFEST = "manifest.json"
RANGE_PATH = re.compile(r"^(\d{1,5})-(\d{1,5})$")
MAX_CODEPOINT = 0xFFFF


class FontError(LookupError):
    """An unknown font stack or a malformed range."""


class GlyphsNotBuilt(RuntimeError):
    """The glyph directory holds no build (or the font files are missing)."""


@dataclass(frozen=True)
class BuildReport:
    built: bool
    stacks: int
    ranges: int
    glyphs: int
    seconds: float


def _sources() -> dict[str, dict[str, int | str]]:
    out = {}
    for stack, filename in FONT_STACKS.items():
        path = FONT_DIR / filename
        if not path.is_file():
            raise GlyphsNotBuilt(f"{path} is missing: install the Debian package {FONT_PACKAGE}")
        stat = path.stat()
        out[stack] = {"file": str(path), "size": stat.st_size, "mtime": int(stat.st_mtime)}
    return out


def _wanted_manifest() -> dict:
    return {"builder": BUILDER_VERSION, "fonts": _sources()}


def is_built(directory: Path) -> bool:
    """Whether `directory` holds glyphs built from today's fonts by today's builder."""
    try:
        return json.loads((directory / MANIFEST).read_text()) == _wanted_manifest()
    except (OSError, ValueError):
        return False


def build_fonts(directory: Path, force: bool = False) -> BuildReport:
    """Build every font stack's glyph ranges into `directory` (swapped in when complete)."""
    from tiles.glyph_sdf import ascender_px, open_face, render_glyph  # FreeType only here

    started = time.monotonic()
    if not force and is_built(directory):
        return BuildReport(False, len(FONT_STACKS), 0, 0, time.monotonic() - started)
    manifest = _wanted_manifest()
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fonts-", dir=directory.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the web server may run as another user
    ranges = glyphs = 0
    for stack, source in manifest["fonts"].items():
        face = open_face(str(source["file"]))
        ascender = ascender_px(face)
        by_range: dict[int, list[Glyph]] = {}
        for codepoint, index in face.get_chars():
            if index and codepoint <= MAX_CODEPOINT:
                by_range.setdefault(codepoint // 256 * 256, []).append(
                    render_glyph(face, codepoint, ascender))
        (staging / stack).mkdir()
        for start, members in sorted(by_range.items()):
            (staging / stack / f"{start}-{start + 255}.pbf").write_bytes(
                encode_range(stack, start, members))
            ranges += 1
            glyphs += len(members)
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1))
    old = directory.with_name(f".{directory.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    staging.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
    read_range.cache_clear()
    return BuildReport(True, len(FONT_STACKS), ranges, glyphs, time.monotonic() - started)


def parse_range(text: str) -> int:
    """The first code point of a range path such as `7680-7935`; FontError when malformed."""
    match = RANGE_PATH.match(text)
    start, end = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if start % 256 or end != start + 255 or end > MAX_CODEPOINT:
        raise FontError(f"glyph range {text!r} is not N-(N+255) with N a multiple of 256 "
                        f"up to {MAX_CODEPOINT - 255}")
    return start


def parse_stacks(text: str) -> tuple[str, ...]:
    """The font stacks of a comma-separated list; FontError naming any unknown one."""
    stacks = tuple(s.strip() for s in text.split(","))
    unknown = [s for s in stacks if s not in FONT_STACKS]
    if unknown or not stacks:
        raise FontError(f"unknown font stack {', '.join(unknown) or text!r}; "
                        f"font stacks: {', '.join(FONT_STACKS)}")
    return stacks


@lru_cache(maxsize=64)
def read_range(directory: Path, stacks: tuple[str, ...], start: int) -> bytes:
    """One range of glyphs for a stack list, the first stack's glyph winning per code point.

    A range in which none of the fonts has a glyph is an empty, valid glyph set.
    """
    if not (directory / MANIFEST).is_file():
        raise GlyphsNotBuilt(f"no glyphs are built in {directory}: run `gisapp fonts build`")
    chosen: dict[int, Glyph] = {}
    for stack in stacks:
        path = directory / stack / f"{start}-{start + 255}.pbf"
        if not path.is_file():
            continue
        for _, _, glyphs in decode_range(path.read_bytes()):
            for glyph in glyphs:
                chosen.setdefault(glyph.id, glyph)
    if len(stacks) == 1 and chosen:
        return (directory / stacks[0] / f"{start}-{start + 255}.pbf").read_bytes()
    return encode_range(",".join(stacks), start, [chosen[k] for k in sorted(chosen)])
