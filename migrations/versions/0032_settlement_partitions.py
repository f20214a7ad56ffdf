"""settlements partitioned by period on PostgreSQL; their identity in `settlement_key` (20.4)

A partitioned table's primary and unique keys must hold its partition key, so the upload's
idempotency key (fixmedins_code, setl_id) and the foreign keys of the five tables that
refer to a settlement cannot stay on `settlement` itself. They move to a narrow unpartitioned
`settlement_key` (id, fixmedins_code, setl_id unique, period), filled from the settlements
held; `settlement` gets a foreign key (id, period) to it — with the primary key (id, period),
one settlement row per key, in the key's period — and a plain index on (fixmedins_code,
setl_id).

On PostgreSQL `settlement` becomes `PARTITION BY RANGE (period)`, primary key (id, period),
with a partition per month (`settlement_YYYY_MM`) for every period held and for the months
around today, and a default partition (`settlement_default`) that takes a period with no
partition yet; the `settlement_partitions` job creates the months ahead and moves such rows
out (app/settlements/partitions.py). Its rows are copied: on a large database this
migration takes a while (docs/operations.md). SQLite keeps a plain table.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-30 23:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERRING = (
    "revocation",
    "settlement_list",
    "audit_item",
    "assistance_document",
    "assistance_statement_line",
)
INDEXES = {
    "ix_settlement_batch": "region_code, insutype, batch_date",
    "ix_settlement_batching": "region_code, insutype, setl_date",
    "ix_settlement_day": "fixmedins_code, insutype, setl_date",
    "ix_settlement_fund_period": "region_code, insutype, period",
    "ix_settlement_period": "fixmedins_code, insutype, period",
    "ix_settlement_person": "psn_no, setl_date",
}


def _month_after(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def _month_before(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"


def _refer(old: str, new: str) -> None:
    """The five referring tables' foreign keys: from `old` (None: none left) to `new`."""
    for table in REFERRING:
        with op.batch_alter_table(table) as batch:
            if old:
                batch.drop_constraint(f"fk_{table}_settlement_id_{old}", type_="foreignkey")
            if new:
                batch.create_foreign_key(
                    f"fk_{table}_settlement_id_{new}", new, ["settlement_id"], ["id"]
                )


def upgrade() -> None:
    op.create_table(
        "settlement_key",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("fixmedins_code", sa.String(length=30), nullable=False),
        sa.Column("setl_id", sa.String(length=30), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_key")),
        sa.UniqueConstraint(
            "fixmedins_code", "setl_id", name=op.f("uq_settlement_key_fixmedins_code_setl_id")
        ),
        sa.UniqueConstraint("id", "period", name=op.f("uq_settlement_key_id_period")),
    )
    op.execute(
        "INSERT INTO settlement_key (id, fixmedins_code, setl_id, period) "
        "SELECT id, fixmedins_code, setl_id, period FROM settlement"
    )
    _refer("settlement", "settlement_key")
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("settlement") as batch:
            batch.drop_constraint("uq_settlement_fixmedins_code_setl_id", type_="unique")
            batch.create_foreign_key(
                "fk_settlement_id_settlement_key",
                "settlement_key",
                ["id", "period"],
                ["id", "period"],
            )
            batch.create_index("ix_settlement_setl", ["fixmedins_code", "setl_id"])
        return
    bind = op.get_bind()
    held = [row[0] for row in bind.exec_driver_sql("SELECT DISTINCT period FROM settlement")]
    this_month = datetime.now(UTC).strftime("%Y-%m")
    months = set(held) | {_month_before(this_month), this_month}
    months |= {_month_after(this_month), _month_after(_month_after(this_month))}
    op.execute("ALTER SEQUENCE settlement_id_seq OWNED BY NONE")
    op.execute(
        "CREATE TABLE settlement_part (LIKE settlement INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        " PARTITION BY RANGE (period)"
    )
    op.execute("CREATE TABLE settlement_default PARTITION OF settlement_part DEFAULT")
    for month in sorted(months):
        op.execute(
            f"CREATE TABLE settlement_{month[:4]}_{month[5:]} PARTITION OF settlement_part "
            f"FOR VALUES FROM ('{month}') TO ('{_month_after(month)}')"
        )
    op.execute("INSERT INTO settlement_part SELECT * FROM settlement")
    op.execute("DROP TABLE settlement")
    op.execute("ALTER TABLE settlement_part RENAME TO settlement")
    op.execute("ALTER SEQUENCE settlement_id_seq OWNED BY settlement.id")
    op.execute("ALTER TABLE settlement ADD CONSTRAINT pk_settlement PRIMARY KEY (id, period)")
    op.execute(
        "ALTER TABLE settlement ADD CONSTRAINT fk_settlement_fixmedins_code_institution "
        "FOREIGN KEY (fixmedins_code) REFERENCES institution (code)"
    )
    op.execute(
        "ALTER TABLE settlement ADD CONSTRAINT fk_settlement_id_settlement_key "
        "FOREIGN KEY (id, period) REFERENCES settlement_key (id, period)"
    )
    for name, columns in {**INDEXES, "ix_settlement_setl": "fixmedins_code, setl_id"}.items():
        op.execute(f"CREATE INDEX {name} ON settlement ({columns})")
    op.execute("ANALYZE settlement")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("settlement") as batch:
            batch.drop_index("ix_settlement_setl")
            batch.drop_constraint("fk_settlement_id_settlement_key", type_="foreignkey")
            batch.create_unique_constraint(
                "uq_settlement_fixmedins_code_setl_id", ["fixmedins_code", "setl_id"]
            )
    else:
        op.execute("ALTER SEQUENCE settlement_id_seq OWNED BY NONE")
        op.execute(
            "CREATE TABLE settlement_plain "
            "(LIKE settlement INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        op.execute("INSERT INTO settlement_plain SELECT * FROM settlement")
        _refer("settlement_key", "")
        op.execute("DROP TABLE settlement")
        op.execute("ALTER TABLE settlement_plain RENAME TO settlement")
        op.execute("ALTER SEQUENCE settlement_id_seq OWNED BY settlement.id")
        op.execute("ALTER TABLE settlement ADD CONSTRAINT pk_settlement PRIMARY KEY (id)")
        op.execute(
            "ALTER TABLE settlement ADD CONSTRAINT uq_settlement_fixmedins_code_setl_id "
            "UNIQUE (fixmedins_code, setl_id)"
        )
        op.execute(
            "ALTER TABLE settlement ADD CONSTRAINT fk_settlement_fixmedins_code_institution "
            "FOREIGN KEY (fixmedins_code) REFERENCES institution (code)"
        )
        for name, columns in INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON settlement ({columns})")
        _refer("", "settlement")
        op.drop_table("settlement_key")
        return
    _refer("settlement_key", "settlement")
    op.drop_table("settlement_key")
