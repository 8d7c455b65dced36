"""Which layers a caller may see: one rule for features, tiles and their documents.

A layer the caller may not see answers exactly like one that does not exist: 404
`unknown_layer`, naming only the layers the caller may see. The catalogue, the styles,
/collections and the OpenAPI document already leave such a layer out, so a 403 or 401 here
would reveal what they hide.
"""
from __future__ import annotations

from typing import Iterable

from gisapp.errors import LayerNotFound
from layers import LAYERS, Access, Layer, UnknownLayer, get_layer


def layer_not_found(layer_id: str, levels: frozenset[Access]) -> LayerNotFound:
    """The error for a layer id that is unknown or hidden from `levels` (the same for both)."""
    visible = ", ".join(lid for lid, layer in LAYERS.items() if layer.access in levels)
    return LayerNotFound(f"unknown layer {layer_id!r}; known layers: {visible}")


def visible_layer(layer_id: str, levels: frozenset[Access]) -> Layer:
    """The layer with this id if `levels` may see it, else LayerNotFound."""
    try:
        layer = get_layer(layer_id)
    except UnknownLayer:
        raise layer_not_found(layer_id, levels) from None
    check_visible((layer,), levels)
    return layer


def check_visible(layers: Iterable[Layer], levels: frozenset[Access]) -> None:
    """LayerNotFound for the first of `layers` that `levels` may not see."""
    for layer in layers:
        if layer.access not in levels:
            raise layer_not_found(layer.id, levels)
