"""Declarations: a field, a style, a table and a map layer.

A layer is declared once; its table, import mapping, tile attributes, features schema,
style, legend and per-role field visibility are all derived from the declaration.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from enum import Enum

from layers.sources import DEMO_CITY, Source


# The languages every label, title and name in the registry is written in: a text is a
# dict by language ({"vi": …, "en": …}), so a third language is data, not code.
LANGUAGES: tuple[str, ...] = ("vi", "en")


class Access(str, Enum):
    """Who may read a field or a layer: everyone, staff, or only roles allowed personal data."""

    PUBLIC = "public"
    STAFF = "staff"
    PERSONAL = "personal"


class FieldType(str, Enum):
    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    DATE = "date"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Field:
    """One attribute column.

    `sources` lists the column names this field may carry in source files (case-insensitive),
    tried in order after the field's own name. `generated` is a SQL expression over other
    columns of the same table: such a field is computed by PostgreSQL and never imported.
    """

    name: str
    type: FieldType
    label: dict[str, str] = dc_field(hash=False)  # by language
    access: Access = Access.PUBLIC
    required: bool = False
    sources: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    generated: str | None = None
    unit: str | None = None  # a key of layers.vocabulary.UNITS
    year: bool = False  # an integer holding a calendar year: written without grouping


@dataclass(frozen=True)
class Label:
    """A label written from a field: along a line layer's lines, else at a point or at a
    polygon's inside-most point. `detail` is a second field printed under it on the
    cadastral (print) theme, such as a parcel's land-use code under its number."""

    field: str
    minzoom: int | None = None  # default: the layer's
    maxzoom: int | None = None  # default: the layer's
    font: str = "regular"  # "regular", "bold" or "italic" (water names)
    size: float = 12.0  # px at zoom 16; a little larger above, smaller below
    color: str | None = None  # default: the theme's text colour
    uppercase: bool = False
    detail: str | None = None
    # the field written instead, by UI language: {"en": "name_en"} for English ward names
    fields: dict[str, str] = dc_field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Style:
    """How a layer draws: a MapLibre layer kind plus paint values.

    `by` colours features by a field's value: (field name, ((value, colour), ...)).
    `widths` gives line widths in px at zoom 18 by the same field's value (roads by class),
    `casing` a colour drawn beneath lines, wider (road edges). `icons` draws a sprite icon
    instead of the circle for some values of a field, `icon` for every feature, from
    `icon_zoom` on. `order` stacks layers of one kind: lower draws first. Colours are the
    light theme's; the dark and cadastral themes derive theirs from them.
    """

    kind: str  # "fill", "line" or "circle"
    color: str
    outline: str | None = None
    width: float = 1.0
    radius: float = 4.0
    opacity: float = 0.8
    label: str | None = None  # the field naming a feature (drawn unless `labels` says more)
    by: tuple[str, tuple[tuple[str, str], ...]] | None = None
    labels: tuple[Label, ...] = ()
    widths: tuple[tuple[str, float], ...] = ()
    casing: str | None = None
    dash: tuple[float, ...] = ()
    icons: tuple[str, tuple[tuple[str, str], ...]] | None = None
    icon: str | None = None
    icon_zoom: int = 16
    order: int = 0

    @property
    def drawn_labels(self) -> tuple[Label, ...]:
        """The labels to draw: the declared ones, else one of the naming field."""
        return self.labels or ((Label(self.label),) if self.label else ())


@dataclass(frozen=True)
class OsmMapping:
    """How OpenStreetMap features become a layer's rows, through GDAL's OSM driver.

    `elements` are the driver's layers to read ("points", "lines", "multipolygons"). A
    feature is taken when one of its tags matches `select` (tag, accepted values; no values:
    any value). `fields` maps a declared field to the tag it is read from (several tags:
    their values joined by a space, as "addr:housenumber addr:street"); a field listed
    twice takes the first entry that gives it a value (amenity, else healthcare); `values`
    translates a field's tag values (a value missing from a field's table is dropped). The
    layer's key holds the OSM element ("way/35950850"), so a newer extract upserts.
    """

    elements: tuple[str, ...]
    select: tuple[tuple[str, tuple[str, ...]], ...]
    fields: tuple[tuple[str, str | tuple[str, ...]], ...]
    values: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def accepts(self, tags: dict[str, str]) -> bool:
        """True when one of the `select` tags is present with an accepted value."""
        return any(tag in tags and (not wanted or tags[tag] in wanted)
                   for tag, wanted in self.select)

    def row(self, tags: dict[str, str]) -> dict[str, str | None]:
        """The declared fields of one feature, from its tags."""
        tables = dict(self.values)
        out: dict[str, str | None] = {}
        for name, tag in self.fields:
            if isinstance(tag, tuple):
                value = " ".join(tags[t] for t in tag if tags.get(t)) or None
            else:
                value = tags.get(tag)
            if value is not None and name in tables:
                value = dict(tables[name]).get(value)
            if out.get(name) is None:
                out[name] = value
        return out


@dataclass(frozen=True)
class Overview:
    """A generalised form of a dense layer that tiles carry up to `maxzoom`.

    At district scale a parcel is a few pixels; the overview merges the features that share
    the `group_by` values within square cells of `cell_m` metres (EPSG:3857) and simplifies
    them by `simplify_m`, so land use shows across the city in small tiles. The ETL rebuilds
    it in the transaction of every load, so it is always in step with the layer's data, and
    stores it encoded per tile of its zooms (etl/overviews.py).
    """

    maxzoom: int
    group_by: tuple[str, ...]
    cell_m: float = 250.0
    simplify_m: float = 3.0


@dataclass(frozen=True)
class FeatureMinzoom:
    """Features of a layer that tiles carry only from `minzoom`: those whose `field` is one
    of `values` (manholes and inlets from z15; pump stations and outfalls from the layer's
    minzoom). The tile SQL leaves them out below it and the style filters them alike."""

    field: str
    values: tuple[str, ...]
    minzoom: int


@dataclass(frozen=True)
class Temporal:
    """Where a layer's features sit in time, for `datetime=` and the temporal extent.

    `start` and `end` name timestamp columns (end NULL: still valid); with `in_versions`
    they are columns of the layer's versions table (a version's validity), else of its table.
    """

    start: str
    end: str | None = None
    in_versions: bool = False


@dataclass(frozen=True)
class FieldIndex:
    """A B-tree index on fields that queries filter or join by (pipes by their end nodes)."""

    fields: tuple[str, ...]

    @property
    def name_suffix(self) -> str:
        return "_".join(self.fields)


@dataclass(frozen=True)
class Table:
    """A non-spatial table declared from fields (parties, rights, land-use purposes).

    `indexes` are what queries need beyond the key, the geometry and computed ids;
    `search` names the text fields free-text search looks in (accents and case folded, one
    trigram index over them joined).
    """

    id: str
    title: dict[str, str] = dc_field(hash=False)  # by language
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    access: Access = Access.STAFF
    indexes: tuple[FieldIndex, ...] = ()
    search: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.id} has no field {name!r}")

    @property
    def table(self) -> str:
        return self.id

    @property
    def imported_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.generated is None)

    def visible_fields(self, levels: frozenset[Access]) -> tuple[Field, ...]:
        """The fields a caller holding these access levels may read."""
        return tuple(f for f in self.fields if f.access in levels)


@dataclass(frozen=True)
class Layer(Table):
    """A spatial layer: a table with one geometry column, drawn on the map.

    `geometry_type` is the PostGIS type of `geom` (SRID 4326); sources with the single
    form of a Multi type are promoted on import. Zooms bound where tiles carry the layer.
    `versioned` layers keep every replaced feature in `<table>_versions`.
    """

    theme: str = "base"
    geometry_type: str = "MultiPolygon"
    minzoom: int = 0
    maxzoom: int = 22
    style: Style = dc_field(default_factory=lambda: Style("fill", "#888888"))
    access: Access = Access.PUBLIC
    versioned: bool = False
    temporal: Temporal | None = None  # what `datetime=` filters on; None: no time field
    description: dict[str, str] = dc_field(default_factory=dict, hash=False)  # by language
    tile_max_features: int | None = None  # per-tile cap below GISAPP_TILE_MAX_FEATURES
    osm: OsmMapping | None = None  # how an OpenStreetMap extract maps onto this layer
    source: Source = DEMO_CITY  # attribution, link and licence shown wherever it is drawn
    overview: Overview | None = None  # generalised features for zooms below full detail
    feature_minzoom: FeatureMinzoom | None = None  # some features only from a higher zoom

    @property
    def overview_table(self) -> str:
        """The table of a layer's overview: parcels -> parcels_overview."""
        return f"{self.id}_overview"

    @property
    def overview_tiles_table(self) -> str:
        """The encoded overview tiles of a layer: parcels -> parcels_overview_tiles."""
        return f"{self.overview_table}_tiles"

    @property
    def versions_table(self) -> str:
        """The history table of a versioned layer: parcels -> parcel_versions."""
        return self.id.removesuffix("s") + "_versions"

    @property
    def is_point(self) -> bool:
        return self.geometry_type.endswith("Point")

    @property
    def is_line(self) -> bool:
        return self.geometry_type.endswith("LineString")
