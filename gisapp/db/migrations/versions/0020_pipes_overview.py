"""drainage pipes overview: pipes of one diameter joined per 250 m cell, for z13-14 tiles

Hand-written in the form of 0008 and 0016: the pipes already loaded get their overview and
its encoded tiles now; later loads keep both in step (etl/overviews.py).

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-07 22:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0020'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('drainage_pipes_overview',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('diameter_mm', sa.BigInteger(), nullable=True),
    sa.Column('cell_x', sa.Integer(), nullable=False),
    sa.Column('cell_y', sa.Integer(), nullable=False),
    sa.Column('feature_count', sa.Integer(), nullable=False),
    sa.Column('geom_3857', Geometry(geometry_type='MULTILINESTRING', srid=3857, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drainage_pipes_overview'))
    )
    op.create_index('ix_drainage_pipes_overview_cell', 'drainage_pipes_overview', ['cell_x', 'cell_y'], unique=False)
    op.create_geospatial_index('ix_drainage_pipes_overview_geom_3857', 'drainage_pipes_overview', ['geom_3857'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('drainage_pipes_overview_tiles',
    sa.Column('z', sa.SmallInteger(), nullable=False),
    sa.Column('x', sa.Integer(), nullable=False),
    sa.Column('y', sa.Integer(), nullable=False),
    sa.Column('mvt', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('z', 'x', 'y', name=op.f('pk_drainage_pipes_overview_tiles'))
    )
    from etl.overviews import refresh_overview
    from layers import get_layer
    refresh_overview(op.get_bind().connection.driver_connection, get_layer('drainage_pipes'))


def downgrade() -> None:
    op.drop_table('drainage_pipes_overview_tiles')
    op.drop_geospatial_index('ix_drainage_pipes_overview_geom_3857', table_name='drainage_pipes_overview', postgresql_using='gist', column_name='geom_3857')
    op.drop_index('ix_drainage_pipes_overview_cell', table_name='drainage_pipes_overview')
    op.drop_geospatial_table('drainage_pipes_overview')
