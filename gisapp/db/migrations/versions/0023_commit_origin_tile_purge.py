"""layer_state.commit_origin: the WAL history each commit_lsn was read in; etl_runs.tile_purge

A commit LSN restored from a dump of another cluster or database means nothing here
(store.layer_changes). Versions recorded before this revision get the position at upgrade
time with this database's origin: possibly later than their commits, never earlier, so even
values restored from an older dump are safe.

etl_runs.tile_purge: what the purge of the cache in front did after the run
(gisapp/tile_purge.py): counts of requests, purged, not cached, failed, and the first errors.

Revision ID: 0023
Revises: 0017
Create Date: 2026-12-07 22:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0023'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('layer_state', sa.Column('commit_origin', sa.Text(), nullable=True))
    op.add_column('etl_runs', sa.Column('tile_purge', postgresql.JSONB(), nullable=True))
    op.execute("UPDATE layer_state SET commit_lsn ="
               " (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint, commit_origin ="
               " (SELECT system_identifier FROM pg_control_system())::text || '/'"
               " || (SELECT oid FROM pg_database WHERE datname = current_database())::text")


def downgrade() -> None:
    op.drop_column('etl_runs', 'tile_purge')
    op.drop_column('layer_state', 'commit_origin')
