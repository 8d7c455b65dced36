"""land-use rule v2: proposed uses read against zones' allowed land-use codes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:25:00

Hand-written data migration (no schema change). Zones list their allowed uses as cadastral
land-use codes (Circular 08/2024/TT-BTNMT: ODT, TMD, SKC, …); version 2 of the land_use
rule says which codes each proposed use needs. Each use has alternatives; an alternative
is allowed when the zone allows every code in it.
"""
from datetime import date

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

PARAMS = {
    "category_uses": {
        "residential": ["residential"],
        "mixed": ["residential", "commercial", "mixed", "office"],
        "commercial": ["commercial", "office", "mixed"],
        "public": ["public"],
        "green": [],
        "heritage": ["residential", "public"],
    },
    "review_categories": ["heritage"],
    "use_codes": {
        "residential": [["ODT"], ["ONT"]],
        "commercial": [["TMD"]],
        "office": [["TMD"], ["TSC"]],
        "mixed": [["ODT", "TMD"]],
        "public": [["TSC"], ["DGD"], ["DYT"], ["DVH"], ["DTT"], ["DKH"], ["DXH"]],
        "industrial": [["SKC"], ["SKK"], ["SKN"]],
    },
}
SOURCE = ("Quy hoạch phân khu / chi tiết được duyệt: chức năng và công năng cho phép của ô phố "
          "(zoning.category, zoning.allowed_uses); mã loại đất theo Thông tư 08/2024/TT-BTNMT")


def upgrade() -> None:
    rules = sa.table("permit_rules", sa.column("rule_id", sa.Text),
                     sa.column("version", sa.Integer), sa.column("params", postgresql.JSONB),
                     sa.column("source", sa.Text), sa.column("note", sa.Text),
                     sa.column("valid_from", sa.Date), sa.column("created_by", sa.Text))
    op.bulk_insert(rules, [{
        "rule_id": "land_use", "version": 2, "params": PARAMS, "source": SOURCE,
        "note": "Adds use_codes: zones list allowed uses as land-use codes.",
        "valid_from": date(2021, 7, 5), "created_by": "migration 0005"}])


def downgrade() -> None:
    op.execute("DELETE FROM permit_rules WHERE rule_id = 'land_use' AND version = 2")
