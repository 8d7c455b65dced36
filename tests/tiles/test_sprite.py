"""The icon sprite: every SVG icon rasterised at 1x and 2x, indexed for MapLibre, served."""
from __future__ import annotations

import json

import numpy as np
import pytest
from rasterio.io import MemoryFile

from gisapp import create_app
from tiles.sprite import ICON_DIR, ICON_PX, build_sprite, icon_names, is_built


def read_png(data: bytes) -> np.ndarray:
    """The PNG as (bands, height, width)."""
    with MemoryFile(data) as memory, memory.open() as image:
        return image.read()


@pytest.fixture(scope="module")
def sprite_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sprite")
    assert build_sprite(directory) is True
    return directory


@pytest.mark.parametrize("suffix, ratio", [("", 1), ("@2x", 2)])
def test_every_icon_is_drawn_at_its_pixel_ratio(sprite_dir, suffix, ratio):
    index = json.loads((sprite_dir / f"sprite{suffix}.json").read_text())
    image = read_png((sprite_dir / f"sprite{suffix}.png").read_bytes())
    assert set(index) == set(icon_names()) >= {"pump", "outfall", "manhole", "cabinet", "lamp",
                                               "wifi", "school", "hospital"}
    alpha = image[3]
    for name, box in index.items():
        assert box["width"] == box["height"] == ICON_PX * ratio and box["pixelRatio"] == ratio
        cell = alpha[box["y"]:box["y"] + box["height"], box["x"]:box["x"] + box["width"]]
        assert cell.shape == (ICON_PX * ratio, ICON_PX * ratio)
        assert (cell > 200).mean() > 0.5, f"{name} is mostly transparent"


def test_icons_differ_from_each_other(sprite_dir):
    index = json.loads((sprite_dir / "sprite@2x.json").read_text())
    image = read_png((sprite_dir / "sprite@2x.png").read_bytes())
    cells = {name: image[:, b["y"]:b["y"] + b["height"], b["x"]:b["x"] + b["width"]].tobytes()
             for name, b in index.items()}
    assert len(set(cells.values())) == len(cells)


def test_a_second_build_does_nothing_until_an_icon_changes(sprite_dir, tmp_path):
    assert build_sprite(sprite_dir) is False and is_built(sprite_dir)
    icons = tmp_path / "icons"
    icons.mkdir()
    for name in icon_names():
        (icons / f"{name}.svg").write_bytes((ICON_DIR / f"{name}.svg").read_bytes())
    target = tmp_path / "sprite"
    assert build_sprite(target, icons) is True and build_sprite(target, icons) is False
    (icons / "pump.svg").write_text((icons / "pump.svg").read_text().replace("#e6550d", "#000000"))
    assert not is_built(target, icons) and build_sprite(target, icons) is True


def test_sprite_files_are_served_and_unknown_ones_are_404(test_url, tmp_path, sprite_dir):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "sprite").symlink_to(sprite_dir)
    app = create_app({"DATABASE_URL": test_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path, "MAP_ASSETS_DIR": assets})
    client = app.test_client()
    png = client.get("/sprites/sprite@2x.png")
    index = client.get("/sprites/sprite.json")
    missing = client.get("/sprites/sprite@3x.png")
    app.extensions["engine"].dispose()
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert index.status_code == 200 and "pump" in index.get_json()
    assert missing.status_code == 404 and "sprite@2x.png" in missing.get_json()["error"]["message"]
