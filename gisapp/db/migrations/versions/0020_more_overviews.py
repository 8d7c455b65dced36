"""overviews of drainage pipes and the planning layers, for tiles up to z14

Hand-written in the form of 0008 and 0016. Drainage pipes: pipes of one diameter joined
per 250 m cell. Zoning, road reserves, flood zones: grouped by every field, so one row per
feature, simplified by 3 m. The features already loaded get their overview and its encoded
tiles now; later loads keep both in step (etl/overviews.py).

Revision ID: 0020
Revises: 0023
Create Date: 2026-12-07 22:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0020'
down_revision = '0023'
branch_labels = None
depends_on = None

# each overview's table: its group columns and geometry type, as the registry has them now
OVERVIEWS = {
    'drainage_pipes': ('MULTILINESTRING', [('diameter_mm', sa.BigInteger)]),
    'zoning': ('MULTIPOLYGON', [
        ('zone_code', sa.Text), ('name', sa.Text), ('category', sa.Text),
        ('allowed_uses', sa.Text), ('max_coverage', sa.Float), ('max_floors', sa.BigInteger),
        ('max_height_m', sa.Float), ('min_setback_m', sa.Float), ('max_far', sa.Float),
        ('plan_ref', sa.Text)]),
    'road_reserves': ('MULTIPOLYGON', [('reserve_id', sa.Text), ('road_name', sa.Text),
                                       ('reserve_width_m', sa.Float)]),
    'flood_zones': ('MULTIPOLYGON', [('zone_id', sa.Text), ('risk', sa.Text),
                                     ('typical_depth_m', sa.Float),
                                     ('return_period', sa.BigInteger)]),
}


def upgrade() -> None:
    for layer_id, (geometry_type, groups) in OVERVIEWS.items():
        name = f'{layer_id}_overview'
        op.create_geospatial_table(name,
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        *(sa.Column(column, kind(), nullable=True) for column, kind in groups),
        sa.Column('cell_x', sa.Integer(), nullable=False),
        sa.Column('cell_y', sa.Integer(), nullable=False),
        sa.Column('feature_count', sa.Integer(), nullable=False),
        sa.Column('geom_3857', Geometry(geometry_type=geometry_type, srid=3857, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}'))
        )
        op.create_index(f'ix_{name}_cell', name, ['cell_x', 'cell_y'], unique=False)
        op.create_geospatial_index(f'ix_{name}_geom_3857', name, ['geom_3857'], unique=False, postgresql_using='gist', postgresql_ops={})
        op.create_table(f'{name}_tiles',
        sa.Column('z', sa.SmallInteger(), nullable=False),
        sa.Column('x', sa.Integer(), nullable=False),
        sa.Column('y', sa.Integer(), nullable=False),
        sa.Column('mvt', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('z', 'x', 'y', name=op.f(f'pk_{name}_tiles'))
        )
    from etl.overviews import refresh_overview
    from layers import get_layer
    driver = op.get_bind().connection.driver_connection
    for layer_id in OVERVIEWS:
        refresh_overview(driver, get_layer(layer_id))


def downgrade() -> None:
    for layer_id in reversed(OVERVIEWS):
        name = f'{layer_id}_overview'
        op.drop_table(f'{name}_tiles')
        op.drop_geospatial_index(f'ix_{name}_geom_3857', table_name=name, postgresql_using='gist', column_name='geom_3857')
        op.drop_index(f'ix_{name}_cell', table_name=name)
        op.drop_geospatial_table(name)
