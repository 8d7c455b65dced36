"""The MapLibre style: derived from the registry and valid against the style spec."""
import json
import subprocess
from pathlib import Path

import pytest

from layers import LAYERS, ROLES
from tiles.style import STYLE_NAMES, build_style

VALIDATOR = Path(__file__).resolve().parents[2] / "static/node_modules/.bin/gl-style-validate"
PUBLIC = ROLES["public"]
TILES = "http://localhost/tiles/x/{z}/{x}/{y}.mvt"
GLYPHS = "http://localhost/fonts/{fontstack}/{range}.pbf"


def validate(style: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "style.json"
    path.write_text(json.dumps(style))
    return subprocess.run([str(VALIDATOR), str(path)], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("glyphs", ["", GLYPHS], ids=["no-labels", "labels"])
@pytest.mark.parametrize("name", STYLE_NAMES)
def test_style_is_valid_maplibre(tmp_path, name, glyphs):
    done = validate(build_style(name, PUBLIC, TILES, glyphs), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_validator_rejects_a_broken_style(tmp_path):
    style = build_style("default", PUBLIC, TILES)
    style["layers"][1]["paint"]["fill-color"] = ["nonsense-expression"]
    assert validate(style, tmp_path).returncode != 0


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_every_layer_is_drawn_from_its_own_source_layer(layer_id):
    layer = LAYERS[layer_id]
    drawn = [m for m in build_style("default", PUBLIC, TILES)["layers"]
             if m.get("source-layer") == layer_id]
    assert drawn and {m["type"] for m in drawn} >= {layer.style.kind}
    assert all(m["minzoom"] == layer.minzoom for m in drawn)


def test_labels_need_a_glyph_source():
    bare = build_style("default", PUBLIC, TILES)
    labelled = build_style("default", PUBLIC, TILES, GLYPHS)
    assert "glyphs" not in bare and not any(m["type"] == "symbol" for m in bare["layers"])
    labels = {m["source-layer"] for m in labelled["layers"] if m["type"] == "symbol"}
    assert labels == {lid for lid, layer in LAYERS.items() if layer.style.label}
    assert labelled["glyphs"] == GLYPHS


def test_colour_by_field_is_a_match_expression():
    style = build_style("default", PUBLIC, TILES)
    fill = next(m for m in style["layers"] if m["id"] == "parcels-fill")
    colour = fill["paint"]["fill-color"]
    assert colour[0] == "match" and colour[1] == ["to-string", ["get", "land_use"]]
    assert colour[-1] == LAYERS["parcels"].style.color


def test_style_endpoint_serves_the_callers_layers(city_client):
    doc = city_client.get("/styles/default.json").get_json()
    assert doc["version"] == 8
    tiles = doc["sources"]["gisapp"]["tiles"][0]
    assert tiles == "http://localhost/tiles/" + ",".join(LAYERS) + "/{z}/{x}/{y}.mvt"
    assert city_client.get("/styles/drainage.json").status_code == 200
