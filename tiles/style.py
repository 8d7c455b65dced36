"""MapLibre style (spec v8) derived from the registry's Style declarations.

Fills, lines and circles with zoom-dependent widths and radii, `match` colours for
`style.by`. Labels are symbol layers, which MapLibre can only draw with a glyph server:
they are emitted only when a glyphs URL is configured (GISAPP_GLYPHS_URL); without one
the style has no symbol layers and nothing external is ever fetched.
"""
from __future__ import annotations

from typing import Any

from layers import LAYERS, THEMES, Access, Layer
from tiles.tilejson import attribution

SOURCE = "gisapp"
LABEL_FONT = "Noto Sans Regular"
KIND_ORDER = {"fill": 0, "line": 1, "circle": 2}
STYLE_NAMES = ("default", *THEMES)


class UnknownStyle(LookupError):
    """A style name that is neither `default` nor a theme."""

    def __init__(self, name: str):
        super().__init__(f"unknown style {name!r}; styles: {', '.join(STYLE_NAMES)}")


def style_layers(name: str, levels: frozenset[Access]) -> tuple[Layer, ...]:
    """Layers of a style the caller may see: all for `default`, else one theme's."""
    if name not in STYLE_NAMES:
        raise UnknownStyle(name)
    return tuple(layer for layer in LAYERS.values()
                 if layer.access in levels and (name == "default" or layer.theme == name))


def _color(layer: Layer) -> Any:
    if not layer.style.by:
        return layer.style.color
    field, pairs = layer.style.by
    expr: list[Any] = ["match", ["to-string", ["get", field]]]
    for value, colour in pairs:
        expr += [value, colour]
    return expr + [layer.style.color]


def _by_zoom(low: float, high: float) -> list[Any]:
    return ["interpolate", ["linear"], ["zoom"], 10, low, 18, high]


def _base(layer: Layer, suffix: str, kind: str) -> dict[str, Any]:
    return {"id": f"{layer.id}-{suffix}", "type": kind, "source": SOURCE,
            "source-layer": layer.id, "minzoom": layer.minzoom,
            "maxzoom": min(layer.maxzoom + 1, 24)}


def map_layers(layer: Layer) -> list[dict[str, Any]]:
    """The MapLibre layers drawing one registry layer (without its label)."""
    s = layer.style
    if s.kind == "fill":
        out = [{**_base(layer, "fill", "fill"),
                "paint": {"fill-color": _color(layer), "fill-opacity": s.opacity}}]
        if s.outline:
            out.append({**_base(layer, "outline", "line"),
                        "paint": {"line-color": s.outline, "line-width": _by_zoom(0.5, 1.5)}})
        return out
    if s.kind == "line":
        return [{**_base(layer, "line", "line"),
                 "layout": {"line-cap": "round", "line-join": "round"},
                 "paint": {"line-color": _color(layer), "line-opacity": s.opacity,
                           "line-width": _by_zoom(s.width * 0.5, s.width * 2)}}]
    if s.kind == "circle":
        return [{**_base(layer, "circle", "circle"),
                 "paint": {"circle-color": _color(layer), "circle-opacity": s.opacity,
                           "circle-radius": _by_zoom(s.radius * 0.5, s.radius * 1.5),
                           "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}}]
    raise ValueError(f"layer {layer.id} has style kind {s.kind!r}; use fill, line or circle")


def label_layer(layer: Layer) -> dict[str, Any]:
    """A symbol layer writing the layer's label field."""
    layout: dict[str, Any] = {"text-field": ["to-string", ["get", layer.style.label]],
                              "text-font": [LABEL_FONT], "text-size": _by_zoom(10, 14)}
    if layer.style.kind == "line":
        layout["symbol-placement"] = "line"
    return {**_base(layer, "label", "symbol"), "layout": layout,
            "paint": {"text-color": "#333333", "text-halo-color": "#ffffff",
                      "text-halo-width": 1.2}}


def build_style(name: str, levels: frozenset[Access], tiles_url: str,
                glyphs_url: str = "", osm: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The style document; `tiles_url` is the composite tile template of its layers.

    `osm` names the layers showing OpenStreetMap data (their source credits it too).
    """
    layers = style_layers(name, levels)
    drawn = sorted(layers, key=lambda layer: KIND_ORDER.get(layer.style.kind, 9))
    out: list[dict[str, Any]] = [{"id": "background", "type": "background",
                                  "paint": {"background-color": "#f8f4f0"}}]
    for layer in drawn:
        out += map_layers(layer)
    if glyphs_url:
        out += [label_layer(layer) for layer in drawn if layer.style.label]
    style: dict[str, Any] = {
        "version": 8,
        "name": f"gisapp {name}",
        "sources": {SOURCE: {
            "type": "vector", "tiles": [tiles_url], "attribution": attribution(layers, osm),
            "minzoom": min((layer.minzoom for layer in layers), default=0),
            "maxzoom": max((layer.maxzoom for layer in layers), default=22),
        }},
        "layers": out,
    }
    if glyphs_url:
        style["glyphs"] = glyphs_url
    return style
