"""SQLAlchemy tables derived from the layer registry, plus the operations tables.

The operations tables are ETL runs and rejects, layer state, feature versions and rasters.
The app's own tables (users, audit, permits, schedules) join this metadata in
gisapp.db.tables; Alembic autogenerates migrations from it and a test checks they agree.
"""
from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, Boolean, Column, Computed, Date, DateTime, Float,
                        ForeignKey, Identity, Index, Integer, LargeBinary, MetaData,
                        SmallInteger, Table, Text, UniqueConstraint, func, literal, text)
from sqlalchemy.dialects.postgresql import JSONB

from layers import LAYERS, TABLES, FieldType, Layer
from layers import Table as TableDecl

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_key",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})

SQL_TYPES = {
    FieldType.TEXT: Text,
    FieldType.INTEGER: BigInteger,
    FieldType.FLOAT: Float,
    FieldType.DATE: Date,
    FieldType.BOOLEAN: Boolean,
}


def _field_columns(decl: TableDecl) -> list[Column]:
    cols = []
    for f in decl.fields:
        if f.generated:
            cols.append(Column(f.name, SQL_TYPES[f.type](), Computed(f.generated, persisted=True)))
        else:
            cols.append(Column(f.name, SQL_TYPES[f.type](), nullable=not f.required))
    return cols


def _bookkeeping() -> list[Column]:
    return [
        Column("source_run_id", BigInteger),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


def geometry_columns(layer: Layer) -> list[Column]:
    """`geom` in 4326 and the stored `geom_3857` that tiles read, both GiST-indexed."""
    return [
        Column("geom", Geometry(layer.geometry_type, srid=4326, spatial_index=False),
               nullable=False),
        Column("geom_3857", Geometry(layer.geometry_type, srid=3857, spatial_index=False),
               Computed("ST_Transform(geom, 3857)", persisted=True)),
    ]


# gisapp_fold(text): lower(unaccent(NFC)), IMMUTABLE; created by migration 0002.
FOLD_FUNCTION = "gisapp_fold"


def search_document(table: Table, names: tuple[str, ...]):
    """The folded text a trigram index covers: the named columns joined by spaces."""
    parts = [func.coalesce(table.c[n], literal("", Text, literal_execute=True)) for n in names]
    doc = parts[0]
    for part in parts[1:]:
        doc = doc + literal(" ", Text, literal_execute=True) + part
    return getattr(func, FOLD_FUNCTION)(doc, type_=Text)


def search_index_name(decl: TableDecl) -> str:
    """The name of a table's free-text search index: parcels -> ix_parcels_search."""
    return f"ix_{decl.table}_search"


def _declared_indexes(decl: TableDecl, table: Table) -> None:
    """The indexes a declaration asks for: its field indexes and its search index."""
    for index in decl.indexes:
        Index(f"ix_{decl.table}_{index.name_suffix}", *(table.c[f] for f in index.fields))
    if decl.search:
        Index(search_index_name(decl), search_document(table, decl.search).label("search_doc"),
              postgresql_using="gin", postgresql_ops={"search_doc": "gin_trgm_ops"})


def _layer_table(layer: Layer) -> Table:
    table = Table(
        layer.table, metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        *_field_columns(layer),
        *geometry_columns(layer),
        *_bookkeeping(),
        UniqueConstraint(*layer.key),
    )
    Index(f"ix_{layer.table}_geom", table.c.geom, postgresql_using="gist")
    Index(f"ix_{layer.table}_geom_3857", table.c.geom_3857, postgresql_using="gist")
    for f in layer.fields:
        if f.generated:  # computed ids (parcel_uid) are what clients look features up by
            Index(f"ix_{layer.table}_{f.name}", table.c[f.name], unique=True)
    _declared_indexes(layer, table)
    return table


def _versions_table(layer: Layer) -> Table:
    """Every earlier state of a versioned layer's features, with validity and lineage."""
    name = layer.versions_table
    fields = [Column(f.name, SQL_TYPES[f.type]()) for f in layer.fields]
    table = Table(
        name, metadata,
        Column("version_id", BigInteger, Identity(), primary_key=True),
        Column("feature_id", BigInteger, nullable=False),
        *fields,
        Column("geom", Geometry(layer.geometry_type, srid=4326, spatial_index=False),
               nullable=False),
        Column("valid_from", DateTime(timezone=True), nullable=False),
        Column("valid_to", DateTime(timezone=True)),
        Column("change", Text, nullable=False),
        Column("lineage", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("source_run_id", BigInteger),
    )
    Index(f"ix_{name}_geom", table.c.geom, postgresql_using="gist")
    Index(f"ix_{name}_feature", table.c.feature_id, table.c.valid_from)
    # history and as_of lookups find versions by key or by computed id (parcel_uid)
    Index(f"ix_{name}_key", *(table.c[k] for k in layer.key))
    for f in layer.fields:
        if f.generated:
            Index(f"ix_{name}_{f.name}", table.c[f.name], table.c.valid_from)
    return table


def _overview_table(layer: Layer) -> Table:
    """A layer's overview: merged, simplified features in EPSG:3857 for low-zoom tiles."""
    name = layer.overview_table
    table = Table(
        name, metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        *(Column(g, SQL_TYPES[layer.field(g).type]()) for g in layer.overview.group_by),
        Column("cell_x", Integer, nullable=False),
        Column("cell_y", Integer, nullable=False),
        Column("feature_count", Integer, nullable=False),
        Column("geom_3857", Geometry("MultiLineString" if layer.is_line else "MultiPolygon",
                                     srid=3857, spatial_index=False), nullable=False),
    )
    Index(f"ix_{name}_geom_3857", table.c.geom_3857, postgresql_using="gist")
    Index(f"ix_{name}_cell", table.c.cell_x, table.c.cell_y)
    return table


def _overview_tiles_table(layer: Layer) -> Table:
    """A layer's overview encoded as one MVT layer per tile of its overview zooms."""
    return Table(
        layer.overview_tiles_table, metadata,
        Column("z", SmallInteger, primary_key=True),
        Column("x", Integer, primary_key=True),
        Column("y", Integer, primary_key=True),
        Column("mvt", LargeBinary, nullable=False),
    )


def _plain_table(decl: TableDecl) -> Table:
    table = Table(
        decl.table, metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        *_field_columns(decl),
        *_bookkeeping(),
        UniqueConstraint(*decl.key),
    )
    _declared_indexes(decl, table)
    return table


LAYER_TABLES: dict[str, Table] = {lid: _layer_table(layer) for lid, layer in LAYERS.items()}
VERSION_TABLES: dict[str, Table] = {
    lid: _versions_table(layer) for lid, layer in LAYERS.items() if layer.versioned
}
PLAIN_TABLES: dict[str, Table] = {tid: _plain_table(t) for tid, t in TABLES.items()}
OVERVIEW_TABLES: dict[str, Table] = {
    lid: _overview_table(layer) for lid, layer in LAYERS.items() if layer.overview
}
OVERVIEW_TILE_TABLES: dict[str, Table] = {
    lid: _overview_tiles_table(layer) for lid, layer in LAYERS.items() if layer.overview
}

# Search indexes are expressions: autogenerate creates a new one but cannot compare one
# that exists (PostgreSQL rewrites the expression), so it leaves those alone.
EXPRESSION_INDEXES = frozenset(search_index_name(d) for d in (*LAYERS.values(), *TABLES.values())
                               if d.search)

etl_runs = Table(
    "etl_runs", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("layer", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("source_format", Text),
    Column("source_crs", Text),
    Column("encoding", Text),
    Column("mode", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("phase", Text),
    Column("dry_run", Boolean, nullable=False, server_default=text("false")),
    Column("rows_read", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_valid", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_loaded", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_rejected", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_repaired", BigInteger, nullable=False, server_default=text("0")),
    Column("summary", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("warnings", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("timings", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("extent", Geometry("Polygon", srid=4326, spatial_index=False)),
    Column("error", Text),
    Column("started_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
    # what purging the cache in front did after the run (gisapp/tile_purge.py)
    Column("tile_purge", JSONB),
)
Index("ix_etl_runs_layer_created", etl_runs.c.layer, etl_runs.c.created_at)

etl_rejects = Table(
    "etl_rejects", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("run_id", BigInteger, ForeignKey("etl_runs.id", ondelete="CASCADE"), nullable=False),
    Column("row_number", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("geometry_wkt", Text),
)
Index("ix_etl_rejects_run", etl_rejects.c.run_id, etl_rejects.c.row_number)

layer_state = Table(
    "layer_state", metadata,
    Column("layer", Text, primary_key=True),
    Column("data_version", BigInteger, nullable=False, server_default=text("0")),
    Column("last_run_id", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # pg_lsn as a number: a WAL position past the commit of this data_version (NULL until
    # recorded after the commit; store.layer_changes.settle_commit_lsns)
    Column("commit_lsn", BigInteger),
    # the cluster and database that WAL position belongs to (store.layer_changes
    # COMMIT_ORIGIN_SQL): a value restored from a dump of another one is not trusted
    Column("commit_origin", Text),
)

rasters = Table(
    "rasters", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("path", Text, nullable=False),
    Column("crs", Text, nullable=False),
    Column("bounds", Geometry("Polygon", srid=4326, spatial_index=False)),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("nodata", Float),
    Column("unit", Text),
    Column("stats", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("source_run_id", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

