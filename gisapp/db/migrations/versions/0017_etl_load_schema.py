"""etl_load schema for the shadow tables of first loads

A large first load into an empty layer is written into tables of the same name in schema
etl_load, indexed there on several connections, then moved into public in one short
transaction (etl/shadow_load.py). The schema holds no table between loads.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:20:00
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('CREATE SCHEMA etl_load')


def downgrade() -> None:
    op.execute('DROP SCHEMA etl_load CASCADE')
