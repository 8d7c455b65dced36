"""facilities: schools and health facilities

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:30:00
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('facilities',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('facility_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('geom_3857', Geometry(geometry_type='POINT', srid=3857, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), sa.Computed('ST_Transform(geom, 3857)', persisted=True), nullable=True),
    sa.Column('source_run_id', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facilities')),
    sa.UniqueConstraint('facility_id', name=op.f('uq_facilities_key'))
    )
    op.create_geospatial_index('ix_facilities_geom', 'facilities', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_index('ix_facilities_geom_3857', 'facilities', ['geom_3857'], unique=False, postgresql_using='gist', postgresql_ops={})


def downgrade() -> None:
    op.drop_geospatial_index('ix_facilities_geom_3857', table_name='facilities', postgresql_using='gist', column_name='geom_3857')
    op.drop_geospatial_index('ix_facilities_geom', table_name='facilities', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('facilities')
