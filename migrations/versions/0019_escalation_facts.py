"""what each escalation counts for in the figures, as columns of its row

Issue 23, fast at size: the console's overview and communities pages read these narrow
columns for a period instead of validating every document in it (workflows/metrics.Facts;
storage/figures.py writes them with the row on every save). Existing rows are filled from
their documents, in batches, by the same rule.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 03:45:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.figures import FACT_COLUMNS, fact_values_of_document
from storage.tables import EscalationRow

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("first_response_pull", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("reassignments", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_responder", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("resolver", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("first_response_s", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("first_response_business_s", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("resolution_s", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("resolution_business_s", sa.Double(), nullable=True))
    backfill(op.get_bind())
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index("ix_escalations_community_closed", ["community", "closed_at"], unique=False)


def backfill(connection: sa.Connection, batch: int = BATCH) -> int:
    """Every row's columns from its document, ``batch`` rows at a time in the order of ids."""
    table: Any = EscalationRow.__table__
    read = (
        sa.select(table.c.id, sa.cast(table.c.data, sa.Text))
        .where(table.c.id > sa.bindparam("b_after"))
        .order_by(table.c.id)
        .limit(batch)
    )
    write = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values({name: sa.bindparam(f"b_{name}", type_=table.c[name].type) for name in FACT_COLUMNS})
    )
    after, done = "", 0
    while rows := connection.execute(read, {"b_after": after}).all():
        params = [
            {"b_id": esc_id, **{f"b_{k}": v for k, v in fact_values_of_document(data).items()}} for esc_id, data in rows
        ]
        connection.execute(write, params)
        after, done = rows[-1][0], done + len(rows)
    return done


def downgrade() -> None:
    # Not in batch mode: on SQLite that would copy the table and lose the triggers 0018
    # keeps on it; SQLite drops an unindexed column in place.
    op.drop_index("ix_escalations_community_closed", table_name="escalations")
    for name in reversed(FACT_COLUMNS):
        op.drop_column("escalations", name)
