"""MapLibre style (spec v8) derived from the registry's Style and Label declarations.

Fills (with outlines), lines (roads by class: casings beneath, widths by zoom), circles,
sprite icons, then labels: names along streets, ward, water, zone and POI names, parcel
numbers at high zoom. Points draw above lines above fills; within a kind, `Style.order`
then registry order. Labels and icons need glyphs and a sprite: without a glyphs URL the
style has no symbol layers and fetches nothing.

Expressions are the forms desktop converters (QGIS's among them) read too: `match` labels
as one-element arrays, `interpolate` on zoom, label text as `{field}` tokens.
"""
from __future__ import annotations

from typing import Any, Collection

from layers import LAYERS, THEMES, Access, Layer
from layers.model import Label
from tiles.palettes import DEFAULT_PALETTE, Palette, get_palette, muted
from tiles.sql import label_layer_name
from tiles.tilejson import attribution, layer_credits

SOURCE = "gisapp"
FONTS = {"regular": "Noto Sans Regular", "bold": "Noto Sans Bold", "italic": "Noto Sans Italic"}
LABEL_FONT = FONTS["regular"]
KIND_ORDER = {"fill": 0, "line": 1, "circle": 2}
STYLE_NAMES = ("default", *THEMES)
# Line widths at these zooms, as fractions of the declared width at zoom 18.
WIDTH_STOPS = ((10, 0.06), (13, 0.16), (15, 0.38), (18, 1.0), (20, 2.2))
CASING_PX = 2.0  # a casing is this much wider than its road


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


def _match(field: str, pairs: Collection[tuple[str, Any]], default: Any) -> list[Any]:
    """["match", ["get", field], [value], output, ..., default]: one-element label arrays."""
    expr: list[Any] = ["match", ["get", field]]
    for value, output in pairs:
        expr += [[value], output]
    return expr + [default]


def _color(layer: Layer, recolour) -> Any:
    s = layer.style
    if not s.by:
        return recolour(s.color)
    field, pairs = s.by
    return _match(field, [(v, recolour(c)) for v, c in pairs], recolour(s.color))


def _by_zoom(low: float, high: float) -> list[Any]:
    return ["interpolate", ["linear"], ["zoom"], 10, low, 18, high]


def _line_width(layer: Layer, extra: float = 0.0) -> list[Any]:
    """Width by zoom; by class when the layer declares `widths` (roads)."""
    s = layer.style
    out: list[Any] = ["interpolate", ["exponential", 1.5], ["zoom"]]
    for zoom, share in WIDTH_STOPS:
        if s.widths:
            out += [zoom, _match(s.by[0], [(v, round(w * share + extra, 2)) for v, w in s.widths],
                                 round(s.width * 3 * share + extra, 2))]
        else:
            out += [zoom, round(max(s.width * 2 * share, s.width * 0.5) + extra, 2)]
    return out


def held_back_filter(layer: Layer) -> list[Any]:
    """Layer.feature_minzoom as a filter: the features it names only from its zoom on (a
    filter's ["zoom"] is the integer zoom, the tile's: the map draws what the tile carries)."""
    held = layer.feature_minzoom
    return ["any", [">=", ["zoom"], held.minzoom],
            ["match", ["get", held.field], list(held.values), False, True]]


def _with_filter(style_layer: dict[str, Any], expr: list[Any]) -> dict[str, Any]:
    """The style layer drawing only features matching `expr` and its own filter, if any."""
    if "filter" in style_layer:
        expr = ["all", style_layer["filter"], expr]
    return {**style_layer, "filter": expr}


def _base(layer: Layer, suffix: str, kind: str, shown: bool, minzoom: int | None = None,
          maxzoom: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f"{layer.id}-{suffix}", "type": kind, "source": SOURCE,
                           "source-layer": layer.id,
                           "minzoom": layer.minzoom if minzoom is None else minzoom,
                           "maxzoom": min(layer.maxzoom + 1, 24) if maxzoom is None else maxzoom,
                           "metadata": {"gisapp:layer": layer.id, "gisapp:theme": layer.theme}}
    if not shown:
        out["layout"] = {"visibility": "none"}
    if layer.feature_minzoom and out["minzoom"] < layer.feature_minzoom.minzoom:
        out["filter"] = held_back_filter(layer)
    return out


def _with_layout(base: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
    return {**base, "layout": {**layout, **base.get("layout", {})}}


def _icon_values(layer: Layer) -> list[str]:
    return [value for value, _ in layer.style.icons[1]] if layer.style.icons else []


def map_layers(layer: Layer, palette: Palette, shown: bool = True,
               icons: bool = False) -> list[dict[str, Any]]:
    """The MapLibre layers drawing one registry layer (without casings, icons and labels)."""
    s = layer.style
    if s.kind == "fill":
        opacity = s.opacity * palette.fill_opacity
        recolour = palette.fill
        if opacity < palette.min_fill_opacity:
            # a faint overlay (road reserves at 8 %) lifted to the floor would turn its hue
            # loud (a pink sheet): its hue is muted as much as its opacity is raised
            share = opacity / palette.min_fill_opacity
            recolour = lambda colour: palette.fill(muted(colour, share))  # noqa: E731
        out = [{**_base(layer, "fill", "fill", shown),
                "paint": {"fill-color": _color(layer, recolour),
                          "fill-opacity": round(max(opacity, palette.min_fill_opacity), 2)}}]
        if s.outline:
            width = _by_zoom(0.5 * s.width * palette.outline_width,
                             1.5 * s.width * palette.outline_width)
            out.append({**_base(layer, "outline", "line", shown),
                        "paint": {"line-color": palette.outline(s.outline), "line-width": width}})
        return out
    if s.kind == "line":
        paint: dict[str, Any] = {
            "line-color": _color(layer, palette.road if s.casing else palette.line),
            "line-opacity": s.opacity, "line-width": _line_width(layer)}
        if s.dash:
            paint["line-dasharray"] = list(s.dash)
        return [_with_layout({**_base(layer, "line", "line", shown), "paint": paint},
                             {"line-cap": "butt" if s.dash else "round", "line-join": "round"})]
    if s.kind == "circle":
        paint = {"circle-color": _color(layer, palette.line), "circle-opacity": s.opacity,
                 "circle-radius": _by_zoom(s.radius * 0.5, s.radius * 1.5),
                 "circle-stroke-color": palette.point_stroke or palette.halo,
                 "circle-stroke-width": 1.5 if palette.point_stroke else 1}
        if not icons or not (s.icon or s.icons):
            return [{**_base(layer, "circle", "circle", shown), "paint": paint}]
        out = [{**_base(layer, "circle", "circle", shown, maxzoom=s.icon_zoom), "paint": paint}]
        if s.icons:  # values without an icon stay circles above the icon zoom
            out.append({**_with_filter(_base(layer, "circle-plain", "circle", shown,
                                         minzoom=s.icon_zoom),
                                   ["match", ["get", s.icons[0]], _icon_values(layer), False,
                                    True]), "paint": paint})
        return out
    raise ValueError(f"layer {layer.id} has style kind {s.kind!r}; use fill, line or circle")


def casing_layer(layer: Layer, palette: Palette, shown: bool = True) -> dict[str, Any]:
    """A wider, darker line beneath a road: its edges."""
    return _with_layout({**_base(layer, "casing", "line", shown),
                         "paint": {"line-color": palette.casing(layer.style.casing),
                                   "line-width": _line_width(layer, CASING_PX)}},
                        {"line-cap": "round", "line-join": "round"})


def icon_layer(layer: Layer, shown: bool = True) -> dict[str, Any]:
    """Sprite icons: one for every feature, or by a field's value (pump stations, outfalls…)."""
    s = layer.style
    minzoom = max(layer.minzoom, s.icon_zoom)
    out = _base(layer, "icon", "symbol", shown, minzoom=minzoom)
    image: Any = s.icon
    if s.icons:
        field, pairs = s.icons
        image = _match(field, pairs, pairs[0][1])
        out = _with_filter(out, ["match", ["get", field], _icon_values(layer), True, False])
    return _with_layout({**out, "paint": {}}, {
        "icon-image": image, "icon-allow-overlap": True,
        "icon-size": ["interpolate", ["linear"], ["zoom"], minzoom, 0.75, 20, 1.25]})


def label_layer(layer: Layer, label: Label, palette: Palette, index: int = 0,
                shown: bool = True) -> dict[str, Any]:
    """A symbol layer writing one label of the layer."""
    size = label.size
    layout: dict[str, Any] = {
        "text-field": f"{{{label.field}}}", "text-font": [FONTS[label.font]],
        "text-size": ["interpolate", ["linear"], ["zoom"], 12, round(size * 0.8, 1),
                      16, size, 20, round(size * 1.3, 1)],
        "text-max-width": 8, "text-padding": 2}
    if label.uppercase:
        layout.update({"text-transform": "uppercase", "text-letter-spacing": 0.08})
    if layer.is_line:  # a polygon drawn as its boundary (wards) is named inside
        layout.update({"symbol-placement": "line", "text-max-angle": 35,
                       "symbol-spacing": 320, "text-rotation-alignment": "map"})
    elif layer.style.icon or layer.style.icons:
        layout.update({"text-anchor": "top", "text-offset": [0, 0.9], "text-optional": True})
    suffix = "label" if index == 0 else f"label-{index + 1}"
    minzoom = max(layer.minzoom, label.minzoom or 0)
    colour = palette.label(label.color) if label.color else palette.text
    base = _base(layer, suffix, "symbol", shown, minzoom=minzoom, maxzoom=label.maxzoom)
    if not layer.is_line and not layer.is_point:  # an area is named once, at its label point
        base["source-layer"] = label_layer_name(layer)
    if label.fields:  # the page writes one of these instead in that UI language
        base["metadata"]["gisapp:text-fields"] = {lang: f"{{{name}}}"
                                                  for lang, name in label.fields.items()}
    return _with_layout({**base,
                         "paint": {"text-color": colour, "text-halo-color": palette.halo,
                                   "text-halo-width": palette.halo_width,
                                   "text-halo-blur": 0.3}}, layout)


def detail_layer(layer: Layer, label: Label, palette: Palette, index: int = 0,
                 shown: bool = True) -> dict[str, Any]:
    """The label's detail field written smaller under it (a parcel's land-use code under its
    number, cadastral theme). A symbol of its own, so where both do not fit the number stays."""
    out = label_layer(layer, label, palette, index, shown)
    size = round(label.size * 0.85, 1)
    out["id"] += "-detail"
    out["metadata"].pop("gisapp:text-field-en", None)
    out["layout"].update({
        "text-field": f"{{{label.detail}}}", "text-offset": [0, 1.0],
        "text-size": ["interpolate", ["linear"], ["zoom"], 12, round(size * 0.8, 1),
                      16, size, 20, round(size * 1.3, 1)]})
    return out


def _stacking(layer: Layer) -> tuple[int, int]:
    return KIND_ORDER.get(layer.style.kind, 9), layer.style.order


def build_style(name: str, levels: frozenset[Access], tiles_url: str, glyphs_url: str = "",
                sprite_url: str = "", palette: str = DEFAULT_PALETTE,
                open_themes: Collection[str] | None = None,
                osm: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The style document; `tiles_url` is the composite tile template of its layers.

    Layers of themes outside `open_themes` are in the style but hidden (None: all shown).
    `osm` names the layers showing OpenStreetMap data (their source credits it too).
    """
    colours = get_palette(palette)
    layers = style_layers(name, levels)
    drawn = sorted(layers, key=_stacking)
    shown = {layer.id: open_themes is None or layer.theme in open_themes for layer in layers}
    out: list[dict[str, Any]] = [{"id": "background", "type": "background",
                                  "paint": {"background-color": colours.background}}]
    cased = [layer for layer in drawn if layer.style.casing]
    for layer in drawn:
        if cased and layer is cased[0]:  # every casing under every cased line: joins look right
            out += [casing_layer(c, colours, shown[c.id]) for c in cased]
        out += map_layers(layer, colours, shown[layer.id], icons=bool(sprite_url))
    if sprite_url:
        out += [icon_layer(layer, shown[layer.id]) for layer in drawn
                if layer.style.icon or layer.style.icons]
    if glyphs_url:
        labels = [(layer, label, i) for layer in drawn
                  for i, label in enumerate(layer.style.drawn_labels)]
        # details first: MapLibre places later layers' symbols first, so names win room
        out += [detail_layer(layer, label, colours, i, shown[layer.id])
                for layer, label, i in labels if colours.details and label.detail]
        out += [label_layer(layer, label, colours, i, shown[layer.id])
                for layer, label, i in labels]
    style: dict[str, Any] = {
        "version": 8,
        "name": f"gisapp {name} ({colours.id})",
        # each layer's credits, so a map can credit only the layers it shows
        "metadata": {"gisapp:palette": colours.id,
                     "gisapp:credits": {layer.id: layer_credits(layer, osm) for layer in layers}},
        "sources": {SOURCE: {
            "type": "vector", "tiles": [tiles_url], "attribution": attribution(layers, osm),
            "minzoom": min((layer.minzoom for layer in layers), default=0),
            "maxzoom": max((layer.maxzoom for layer in layers), default=22),
        }},
        "layers": out,
    }
    if glyphs_url:
        style["glyphs"] = glyphs_url
    if sprite_url:
        style["sprite"] = sprite_url
    return style
