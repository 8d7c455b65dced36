"""sensor dead letters: MQTT messages that were not readings, with the reason

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sensor_dead_letters',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensor_dead_letters'))
    )
    op.create_index('ix_sensor_dead_letters_received_at', 'sensor_dead_letters', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sensor_dead_letters_received_at', table_name='sensor_dead_letters')
    op.drop_table('sensor_dead_letters')
