"""The layer registry: one declaration per layer, from which everything else derives."""
from layers.access import ROLES, levels_for
from layers.model import (Access, Field, FieldIndex, FieldType, Label, Layer, OsmMapping, Overview,
                          Style, Table, Temporal)
from layers.registry import (DEFAULT_THEMES, LAYERS, TABLES, THEMES, UnknownLayer, get_layer,
                             get_table)
from layers.sources import Source

__all__ = ["Access", "Field", "FieldIndex", "FieldType", "Label", "Layer", "OsmMapping", "Overview", "Source",
           "Style", "Table", "Temporal", "LAYERS", "TABLES", "THEMES", "DEFAULT_THEMES", "ROLES",
           "UnknownLayer", "get_layer", "get_table", "levels_for"]
