"""The layer registry: one declaration per layer, from which everything else derives."""
from layers.access import ROLES, levels_for
from layers.model import Access, Field, FieldType, Layer, OsmMapping, Overview, Style, Table
from layers.registry import LAYERS, TABLES, THEMES, UnknownLayer, get_layer, get_table
from layers.sources import Source

__all__ = ["Access", "Field", "FieldType", "Layer", "OsmMapping", "Overview", "Source", "Style",
           "Table", "LAYERS", "TABLES", "THEMES", "ROLES", "UnknownLayer", "get_layer",
           "get_table", "levels_for"]
