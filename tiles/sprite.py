"""The map's icon sprite: the SVG icons in static/icons rasterised at 1x and 2x.

`build_sprite` lays the icons out in one row of one SVG document and has librsvg's
`rsvg-convert` (Debian's librsvg2-bin) draw it at both pixel ratios, then writes the
index MapLibre reads: `sprite.json`/`sprite.png` and `sprite@2x.json`/`sprite@2x.png`.
It does nothing when the icons have not changed since the last build.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parents[1] / "static" / "icons"
SVG_NS = "http://www.w3.org/2000/svg"
ICON_PX = 24  # every icon's viewBox and size at 1x
GAP_PX = 2
RATIOS = {"": 1, "@2x": 2}
RSVG = "rsvg-convert"
RSVG_PACKAGE = "librsvg2-bin"
NAME = "sprite"
FILES = tuple(f"{NAME}{suffix}.{ext}" for suffix in RATIOS for ext in ("json", "png"))
SPRITE_PATH = "/sprites/sprite"  # the style's `sprite`, after the root


class SpriteError(RuntimeError):
    """The sprite cannot be built (no rsvg-convert, a broken icon) or was never built."""


class UnknownSpriteFile(LookupError):
    """A file name that is not one of the sprite's FILES."""


def icon_names(icon_dir: Path = ICON_DIR) -> list[str]:
    """The icons the sprite holds, by file name without `.svg`."""
    return sorted(path.stem for path in icon_dir.glob("*.svg"))


def _digest(icon_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in icon_names(icon_dir):
        digest.update(name.encode() + b"\0" + (icon_dir / f"{name}.svg").read_bytes())
    return digest.hexdigest()


def _compose(icon_dir: Path, names: list[str]) -> bytes:
    ET.register_namespace("", SVG_NS)
    width = len(names) * (ICON_PX + GAP_PX)
    root = ET.Element(f"{{{SVG_NS}}}svg", width=str(width), height=str(ICON_PX))
    for i, name in enumerate(names):
        icon = ET.parse(icon_dir / f"{name}.svg").getroot()
        icon.set("x", str(i * (ICON_PX + GAP_PX)))
        icon.set("y", "0")
        icon.set("width", str(ICON_PX))
        icon.set("height", str(ICON_PX))
        root.append(icon)
    return ET.tostring(root)


def _index(names: list[str], ratio: int) -> dict[str, dict[str, int]]:
    step, size = (ICON_PX + GAP_PX) * ratio, ICON_PX * ratio
    return {name: {"x": i * step, "y": 0, "width": size, "height": size, "pixelRatio": ratio}
            for i, name in enumerate(names)}


def is_built(directory: Path, icon_dir: Path = ICON_DIR) -> bool:
    """Whether `directory` holds a sprite of today's icons."""
    stamp = directory / "digest"
    return stamp.is_file() and stamp.read_text() == _digest(icon_dir) and \
        all((directory / f).is_file() for f in FILES)


def build_sprite(directory: Path, icon_dir: Path = ICON_DIR, force: bool = False) -> bool:
    """Rasterise the icons into `directory`; False when it was up to date."""
    if not force and is_built(directory, icon_dir):
        return False
    if shutil.which(RSVG) is None:
        raise SpriteError(f"{RSVG} is missing: install the Debian package {RSVG_PACKAGE}")
    names = icon_names(icon_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "sprite.svg"
        source.write_bytes(_compose(icon_dir, names))
        for suffix, ratio in RATIOS.items():
            done = subprocess.run([RSVG, "--zoom", str(ratio), "--format", "png",
                                   "--output", str(Path(work) / f"{NAME}{suffix}.png"),
                                   str(source)], capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise SpriteError(f"{RSVG} failed: {done.stderr.strip()}")
            (Path(work) / f"{NAME}{suffix}.json").write_text(json.dumps(_index(names, ratio)))
        for name in FILES:
            shutil.copyfile(Path(work) / name, directory / name)
    (directory / "digest").write_text(_digest(icon_dir))
    return True


def read_sprite_file(directory: Path, name: str) -> bytes:
    """One of the sprite's four files by its name (`sprite@2x.png`…)."""
    if name not in FILES:
        raise UnknownSpriteFile(f"no sprite file {name!r}; files: {', '.join(FILES)}")
    path = directory / name
    if not path.is_file():
        raise SpriteError(f"no sprite is built in {directory}: run `gisapp sprite build`")
    return path.read_bytes()
