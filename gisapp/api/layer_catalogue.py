"""/api/layers: the registry as the web map needs it (titles, themes, fields, legend)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from gisapp.auth import current_levels
from layers import LAYERS, TABLES, THEMES, Access, Field, Layer, Table
from layers.city import CITY, City
from layers.vocabulary import LAND_USE_FIELDS, change_names, unit_name, value_name, value_names
from tiles.palettes import DEFAULT_PALETTE, PALETTES

bp = Blueprint("layer_catalogue", __name__)


def describe_field(field: Field) -> dict[str, Any]:
    """A field's name, type, labels, unit (as declared and as written in each language),
    whether it holds a year, the names of its coded values and whether the code is shown
    beside its name."""
    return {"name": field.name, "type": field.type.value,
            "label": dict(field.label), "unit": field.unit,
            "unit_label": unit_name(field.unit), "year": field.year,
            "values": value_names(field),
            "shows_code": field.name in LAND_USE_FIELDS}  # official codes: "name (ODT)"


def describe_legend(layer: Layer) -> list[dict[str, Any]]:
    """Legend entries: one per coloured value, then the layer's own colour for the rest."""
    style = layer.style
    if style.by is None:
        return [{"value": None, "color": style.color}]
    name, pairs = style.by
    return [*({"value": value, "label": value_name(name, value), "color": colour}
              for value, colour in pairs),
            {"value": None, "color": style.color}]


def describe_layer(layer: Layer, levels: frozenset[Access]) -> dict[str, Any]:
    """One layer: only the fields these access levels may read."""
    style = layer.style
    return {
        "id": layer.id,
        "title": dict(layer.title),
        "theme": layer.theme,
        "geometry_type": layer.geometry_type,
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "key": list(layer.key),
        "fields": [describe_field(f) for f in layer.visible_fields(levels)],
        "style": {"kind": style.kind, "color": style.color, "outline": style.outline,
                  "opacity": style.opacity, "by": style.by[0] if style.by else None,
                  "label": style.label},
        "legend": describe_legend(layer),
        "feature_minzoom": describe_feature_minzoom(layer),
    }


def describe_feature_minzoom(layer: Layer) -> dict[str, Any] | None:
    """The features a layer's tiles carry only from a higher zoom, with their names."""
    held = layer.feature_minzoom
    if held is None:
        return None
    return {"field": held.field, "minzoom": held.minzoom,
            "values": [{"value": v, "label": value_name(held.field, v)} for v in held.values]}


def describe_table(table: Table, levels: frozenset[Access]) -> dict[str, Any]:
    """A non-spatial table (rights, holders, land uses): its titles and readable fields."""
    return {"id": table.id, "title": dict(table.title),
            "fields": [describe_field(f) for f in table.visible_fields(levels)]}


def describe_city(city: City) -> dict[str, Any]:
    """The city: its name, opening view, extent (lon/lat), metric CRS and time zone."""
    return {"id": city.id, "name": city.name, "center": list(city.centre), "zoom": city.zoom,
            "bounds": list(city.bounds), "timezone": city.timezone,
            "metric_crs": {"code": city.metric_crs, "name": city.metric_crs_name,
                           "central_meridian": city.central_meridian}}


def describe_layers(levels: frozenset[Access]) -> dict[str, Any]:
    """The city, themes in registry order, the layers and tables these access levels may see,
    the names of history change kinds."""
    visible = [layer for layer in LAYERS.values() if layer.access in levels]
    return {
        "city": describe_city(CITY),
        "themes": [{"id": key, "title": dict(title)} for key, title in THEMES.items()],
        "palettes": [{"id": p.id, "title": dict(p.title)}
                     for p in sorted(PALETTES.values(), key=lambda p: p.id != DEFAULT_PALETTE)],
        "layers": [describe_layer(layer, levels) for layer in visible],
        "tables": [describe_table(t, levels) for t in TABLES.values() if t.access in levels],
        "changes": change_names(),  # the kinds of change a layer's history records, by name
    }


@bp.get("/api/layers")
def layer_catalogue():
    return jsonify(describe_layers(current_levels()))
