"""layer_state.commit_lsn: the WAL position past each layer version's commit

Read replicas serve a layer version only once they have replayed past it. Versions
loaded before this revision get the position at upgrade time, which is past them all.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('layer_state', sa.Column('commit_lsn', sa.BigInteger(), nullable=True))
    op.execute("UPDATE layer_state SET commit_lsn ="
               " (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")


def downgrade() -> None:
    op.drop_column('layer_state', 'commit_lsn')
