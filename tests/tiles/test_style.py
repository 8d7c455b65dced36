"""The MapLibre style: derived from the registry, valid against the style spec in every
map theme, readable by desktop converters, layered points over lines over fills."""
import json
import subprocess
from pathlib import Path

import pytest

from layers import DEFAULT_THEMES, LAYERS, ROLES
from tiles.palettes import PALETTES
from tiles.sprite import ICON_DIR, icon_names
from tiles.style import KIND_ORDER, STYLE_NAMES, build_style

VALIDATOR = Path(__file__).resolve().parents[2] / "static/node_modules/.bin/gl-style-validate"
PUBLIC = ROLES["public"]
TILES = "http://localhost/tiles/x/{z}/{x}/{y}.mvt"
GLYPHS = "http://localhost/fonts/{fontstack}/{range}.pbf"
SPRITE = "http://localhost/sprites/sprite"


def full(name: str = "default", palette: str = "light", open_themes=None) -> dict:
    return build_style(name, PUBLIC, TILES, GLYPHS, SPRITE, palette, open_themes)


def validate(styles: dict[str, dict], tmp_path: Path) -> subprocess.CompletedProcess:
    """gl-style-validate over several styles in one run (node starts once)."""
    paths = []
    for key, style in styles.items():
        paths.append(tmp_path / f"{key}.json")
        paths[-1].write_text(json.dumps(style))
    return subprocess.run([str(VALIDATOR), *map(str, paths)], capture_output=True, text=True,
                          timeout=120)


def all_styles() -> dict[str, dict]:
    styles = {f"{n}-{p}": full(n, p) for n in STYLE_NAMES for p in PALETTES}
    styles.update({f"{n}-bare": build_style(n, PUBLIC, TILES) for n in STYLE_NAMES})
    styles["default-open"] = full(open_themes=DEFAULT_THEMES)
    return styles


def test_every_style_and_theme_is_valid_maplibre(tmp_path):
    done = validate(all_styles(), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_validator_rejects_a_broken_style(tmp_path):
    style = build_style("default", PUBLIC, TILES)
    style["layers"][1]["paint"]["fill-color"] = ["nonsense-expression"]
    assert validate({"broken": style}, tmp_path).returncode != 0


def _matches(node):
    if isinstance(node, list):
        if node and node[0] == "match":
            yield node
        for item in node:
            yield from _matches(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _matches(item)


@pytest.mark.parametrize("palette", list(PALETTES))
def test_match_labels_are_one_element_arrays_for_desktop_converters(palette):
    found = list(_matches(full(palette=palette)["layers"]))
    assert found
    for expr in found:
        labels = expr[2:-1:2]
        assert all(isinstance(label, list) and len(label) >= 1 for label in labels), expr


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_every_layer_is_drawn_from_its_own_source_layer(layer_id):
    layer = LAYERS[layer_id]
    drawn = [m for m in full()["layers"] if m.get("source-layer") == layer_id]
    assert drawn and {m["type"] for m in drawn} >= {layer.style.kind}
    assert min(m["minzoom"] for m in drawn) == layer.minzoom
    assert all(m["minzoom"] >= layer.minzoom for m in drawn)


def test_points_draw_above_lines_above_fills_and_labels_on_top():
    layers = full()["layers"][1:]
    kinds = [KIND_ORDER[LAYERS[m["source-layer"]].style.kind] for m in layers
             if m["type"] != "symbol"]
    assert kinds == sorted(kinds)
    types = [m["type"] for m in layers]
    first_symbol = types.index("symbol")
    assert set(types[first_symbol:]) == {"symbol"}


def test_labels_need_a_glyph_source_and_cover_every_declared_label():
    bare = build_style("default", PUBLIC, TILES)
    labelled = full()
    assert "glyphs" not in bare and not any(m["type"] == "symbol" for m in bare["layers"])
    labels = {m["metadata"]["gisapp:layer"] for m in labelled["layers"]
              if m["type"] == "symbol" and "text-field" in m["layout"]}
    assert labels == {lid for lid, layer in LAYERS.items() if layer.style.drawn_labels}
    assert labelled["glyphs"] == GLYPHS and labelled["sprite"] == SPRITE


def test_names_run_along_lines_and_sit_inside_areas():
    labels = [m for m in full()["layers"] if "text-field" in m.get("layout", {})]
    along = {m["source-layer"] for m in labels if m["layout"].get("symbol-placement") == "line"}
    assert along == {lid for lid, layer in LAYERS.items()
                     if layer.is_line and layer.style.drawn_labels}
    assert "roads" in along and "wards" not in along  # ward boundaries: name inside
    # an area is named once, at the label point its tiles carry (not once per tile it spans)
    inside = {m["metadata"]["gisapp:layer"]: m["source-layer"] for m in labels
              if m["layout"].get("symbol-placement") != "line"}
    assert all(source == f"{lid}_labels" for lid, source in inside.items()
               if not LAYERS[lid].is_point)
    assert inside["wards"] == "wards_labels" and inside["wifi_aps"] == "wifi_aps"


def test_cased_lines_draw_their_casings_first_and_widths_by_class():
    style = full()["layers"]
    ids = [m["id"] for m in style]
    for layer in (lay for lay in LAYERS.values() if lay.style.casing):
        assert ids.index(f"{layer.id}-casing") < ids.index(f"{layer.id}-line")
        width = style[ids.index(f"{layer.id}-line")]["paint"]["line-width"]
        assert width[:3] == ["interpolate", ["exponential", 1.5], ["zoom"]]
        by_class = width[-1]  # the widest stop
        assert by_class[0] == "match" and by_class[1] == ["get", layer.style.by[0]]
        assert by_class[2:-1:2] == [[value] for value, _ in layer.style.widths]


def test_every_declared_icon_is_drawn_from_the_sprite():
    declared = set()
    for layer in LAYERS.values():
        declared |= {layer.style.icon} if layer.style.icon else set()
        declared |= {icon for _, icon in layer.style.icons[1]} if layer.style.icons else set()
    assert declared <= set(icon_names(ICON_DIR))
    images = json.dumps([m["layout"]["icon-image"] for m in full()["layers"]
                         if "icon-image" in m.get("layout", {})])
    assert all(f'"{icon}"' in images for icon in declared)
    assert "icon-image" not in json.dumps(build_style("default", PUBLIC, TILES, GLYPHS))


def test_the_default_view_opens_base_land_and_planning_only():
    style = full(open_themes=DEFAULT_THEMES)
    for m in style["layers"][1:]:
        hidden = m.get("layout", {}).get("visibility") == "none"
        assert hidden == (LAYERS[m["metadata"]["gisapp:layer"]].theme not in DEFAULT_THEMES), \
            m["id"]


def test_themes_recolour_the_same_layers():
    light, dark, cadastral = (full(palette=p) for p in ("light", "dark", "cadastral"))
    assert [m["id"] for m in light["layers"]] == [m["id"] for m in dark["layers"]]
    backgrounds = {s["layers"][0]["paint"]["background-color"] for s in (light, dark, cadastral)}
    assert len(backgrounds) == 3
    fill = {s["name"]: next(m for m in s["layers"] if m["id"] == "parcels-fill")
            for s in (light, dark)}
    assert len({json.dumps(m["paint"]["fill-color"]) for m in fill.values()}) == 2
    ids = [m["id"] for m in cadastral["layers"]]
    parcel_label = cadastral["layers"][ids.index("parcels-label")]
    detail = cadastral["layers"][ids.index("parcels-label-detail")]
    assert parcel_label["layout"]["text-field"] == "{parcel_no}"
    # the land-use code under the number, placed after it (where it fits: numbers come first)
    assert detail["layout"]["text-field"] == "{land_use}" and detail["layout"]["text-offset"]
    assert ids.index("parcels-label-detail") < ids.index("parcels-label")
    assert "parcels-label-detail" not in [m["id"] for m in light["layers"]]


def test_colour_by_field_is_a_match_expression():
    fill = next(m for m in full()["layers"] if m["id"] == "parcels-fill")
    colour = fill["paint"]["fill-color"]
    assert colour[0] == "match" and colour[1] == ["get", "land_use"]
    assert colour[2] == ["ODT"] and colour[-1] == LAYERS["parcels"].style.color


def test_style_endpoint_serves_the_callers_layers(city_client):
    doc = city_client.get("/styles/default.json").get_json()
    assert doc["version"] == 8
    tiles = doc["sources"]["gisapp"]["tiles"][0]
    assert tiles == "http://localhost/tiles/" + ",".join(LAYERS) + "/{z}/{x}/{y}.mvt"
    assert doc["sprite"] == "http://localhost/sprites/sprite"
    assert city_client.get("/styles/drainage.json").status_code == 200


def test_style_endpoint_switches_map_themes(city_client):
    dark = city_client.get("/styles/default.json?palette=dark").get_json()
    assert dark["metadata"]["gisapp:palette"] == "dark"
    wrong = city_client.get("/styles/default.json?palette=neon")
    assert wrong.status_code == 400 and "cadastral" in wrong.get_json()["error"]["message"]


def test_each_layers_credits_are_in_the_style_metadata():
    """A map credits the layers it shows: each layer's sources, OpenStreetMap where loaded."""
    style = build_style("default", PUBLIC, TILES, osm=frozenset({"roads"}))
    credits = style["metadata"]["gisapp:credits"]
    assert list(credits) == [lid for lid, layer in LAYERS.items() if layer.access in PUBLIC]
    assert all(credits[lid][0] == LAYERS[lid].source.attribution for lid in credits)
    assert credits["roads"][-1] == "© OpenStreetMap contributors"
    assert "© OpenStreetMap contributors" not in credits["parcels"]


def _colours(node) -> list[str]:
    """Every #rrggbb literal in a paint value or expression."""
    if isinstance(node, str):
        return [node] if node.startswith("#") and len(node) == 7 else []
    if isinstance(node, list):
        return [c for item in node for c in _colours(item)]
    return []


def _colourfulness(colour: str, opacity: float) -> float:
    """Chroma (max - min channel, 0-255) of the colour painted at `opacity` on white."""
    channels = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return opacity * (max(channels) - min(channels))


def test_contrast_theme_lifts_faint_overlays_without_making_them_loud():
    """A fill declared far fainter than the theme's floor (road reserves at 8 %: an overlay
    meant to stay quiet) is raised to the floor with its hue muted, so it stays about as
    calm as the light theme paints it (it was a loud pink sheet, 5.8x as colourful)."""
    floor = PALETTES["contrast"].min_fill_opacity
    light, contrast = (
        {layer["id"]: layer["paint"] for layer in full(palette=p)["layers"]
         if layer["type"] == "fill"} for p in ("light", "contrast"))
    faint = [lid for lid in contrast if LAYERS[lid.removesuffix("-fill")].style.opacity < floor / 2]
    assert faint
    for lid in faint:
        paint = contrast[lid]
        assert paint["fill-opacity"] >= floor, lid
        for was, now in zip(_colours(light[lid]["fill-color"]), _colours(paint["fill-color"])):
            assert (_colourfulness(now, paint["fill-opacity"])
                    <= 1.5 * _colourfulness(was, light[lid]["fill-opacity"])), (lid, was, now)


def test_the_high_contrast_theme_meets_wcag_ratios():
    """Shapes 3:1 against the ground (WCAG 1.4.11), lines 4.5:1, text 7:1 on its halo;
    no faint fill; roads read by their black casings."""
    from tiles.palettes import contrast_ratio

    style = full(palette="contrast")
    ground = style["layers"][0]["paint"]["background-color"]
    checked = 0
    for layer in style["layers"][1:]:
        paint, lid = layer["paint"], layer["id"]
        if layer["type"] == "fill":
            assert all(contrast_ratio(c, ground) >= 3 for c in _colours(paint["fill-color"])), lid
            assert paint["fill-opacity"] >= PALETTES["contrast"].min_fill_opacity, lid
        elif layer["type"] == "line" and not LAYERS[layer["source-layer"]].style.casing:
            assert all(contrast_ratio(c, ground) >= 4.5 for c in _colours(paint["line-color"])), lid
        elif layer["type"] == "line" and lid.endswith("-casing"):
            assert contrast_ratio(paint["line-color"], ground) >= 4.5, lid
        elif layer["type"] == "line":  # a road: its casing beneath gives the contrast
            casing = next(c for c in style["layers"] if c["id"] == lid.replace("-line", "-casing"))
            assert all(contrast_ratio(c, casing["paint"]["line-color"]) >= 4.5
                       for c in _colours(paint["line-color"])), lid
        elif layer["type"] == "circle":
            assert contrast_ratio(paint["circle-stroke-color"], ground) >= 4.5, lid
        elif layer["type"] == "symbol" and "text-color" in paint:
            assert contrast_ratio(paint["text-color"], paint["text-halo-color"]) >= 7, lid
        else:
            continue
        checked += 1
    assert checked > len(LAYERS)


SPEC = Path(__file__).resolve().parents[2] / "static/node_modules/@maplibre/maplibre-gl-style-spec"
# Which of the given features each style layer's filter passes at each zoom, as MapLibre GL
# evaluates it (its own featureFilter, the function the map calls).
FILTER_JS = """
const spec = require(process.argv[1]);
const {layers, features, zooms} = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = {};
for (const layer of layers) {
  const filter = spec.featureFilter(layer.filter);
  out[layer.id] = {};
  for (const z of zooms) {
    out[layer.id][z] = features.filter(
      (properties) => z >= layer.minzoom && z < layer.maxzoom
        && filter.filter({zoom: z}, {type: 1, properties, geometry: []}))
      .map((properties) => Object.values(properties)[0]);
  }
}
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.parametrize("layer_id", [lid for lid, layer in LAYERS.items()
                                      if layer.feature_minzoom])
def test_the_map_draws_held_back_features_only_from_their_zoom_as_tiles_carry_them(layer_id):
    layer = LAYERS[layer_id]
    held = layer.feature_minzoom
    features = [{held.field: value} for value in layer.field(held.field).choices]
    drawn = [m for m in full()["layers"] if m.get("source-layer") == layer_id]
    zooms = list(range(layer.minzoom, held.minzoom + 3))
    done = subprocess.run(["node", "-e", FILTER_JS, str(SPEC)], capture_output=True, text=True,
                          input=json.dumps({"layers": drawn, "features": features,
                                            "zooms": zooms}), timeout=60, check=True)
    passed = json.loads(done.stdout)
    for z in zooms:
        shown = {value for by_zoom in passed.values() for value in by_zoom[str(z)]}
        expected = {f[held.field] for f in features
                    if z >= held.minzoom or f[held.field] not in held.values}
        assert shown == expected, z
