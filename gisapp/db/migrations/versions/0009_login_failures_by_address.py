"""login failures by address and by time

The login limit also counts attempts per address over all user names (password spraying),
and forgets attempts older than its window on every attempt.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:40:00
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_login_failures_addr_at', 'login_failures', ['remote_addr', 'at'],
                    unique=False)
    op.create_index('ix_login_failures_at', 'login_failures', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_failures_at', table_name='login_failures')
    op.drop_index('ix_login_failures_addr_at', table_name='login_failures')
