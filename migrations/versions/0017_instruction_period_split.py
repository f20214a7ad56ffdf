"""instruction period split: a daily payment's amount per period of its settlements, saved on
its payment instruction (issue 15 item 3: a return never calls back into the daily domain)

Backfilled for the daily instructions saved before: the member settlements of the line's batch
(the batch's range of batch dates, not revoked before batching) of the line's institution,
summed by period, as `app.daily.service.line_amounts_by_period` computed it at return time.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

SPLITS = sa.text(
    """
    SELECT pi.instruction_id, s.period, SUM(s.daily_amount_fen)
    FROM payment_instruction pi
    JOIN daily_line l ON l.id = pi.source_id
    JOIN daily_batch b ON b.id = l.batch_id
    JOIN settlement s
      ON s.region_code = b.region_code
     AND s.insutype = b.insutype
     AND s.fixmedins_code = l.fixmedins_code
     AND s.batch_date <= b.business_date
     AND (b.first_batch_date IS NULL OR s.batch_date >= b.first_batch_date)
    WHERE pi.kind = 'daily' AND pi.source_kind = 'daily_line'
      AND NOT EXISTS (
        SELECT 1 FROM revocation r WHERE r.settlement_id = s.id AND r.batched = :no
      )
    GROUP BY pi.instruction_id, s.period
    ORDER BY pi.instruction_id, s.period
    """
).bindparams(sa.bindparam("no", False, type_=sa.Boolean()))


def upgrade() -> None:
    with op.batch_alter_table("payment_instruction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_split", JSON_TYPE, nullable=True))
    connection = op.get_bind()
    splits: dict[str, list[list[object]]] = {}
    for instruction_id, period, amount in connection.execute(SPLITS):
        splits.setdefault(instruction_id, []).append([period, int(amount)])
    if splits:
        instruction = sa.table(
            "payment_instruction",
            sa.column("instruction_id", sa.String()),
            sa.column("period_split", JSON_TYPE),
        )
        connection.execute(
            instruction.update()
            .where(instruction.c.instruction_id == sa.bindparam("id"))
            .values(period_split=sa.bindparam("split", type_=JSON_TYPE)),
            [{"id": key, "split": value} for key, value in splits.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_instruction", schema=None) as batch_op:
        batch_op.drop_column("period_split")
