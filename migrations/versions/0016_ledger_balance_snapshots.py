"""ledger balance snapshots: as-of balances read a snapshot and a bounded tail (issue 20.2)

Per fund ledger and time basis, snapshots of every account's balance at a cut time, taken by
`fundledger ledger snapshot` (the scheduler every few minutes); indexes of each fund's entries
by effective and recorded time, for the tail after a snapshot. A trigger on journal_entry
deletes the snapshots an entry inserted at or before their cut makes stale.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 01:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite')

# An entry effective (recorded) at or before a snapshot's cut, inserted after it was taken:
# that snapshot and the later ones of the fund ledger and basis no longer add up. Deleted in
# the entry's own transaction (the snapshot job and posting both hold the fund's chain lock).
STALE = (
    "fund_key = {region} || ':' || {insutype} AND ("
    "(basis = 'effective' AND cut >= {effective}) OR (basis = 'recorded' AND cut >= {recorded}))"
)


def upgrade() -> None:
    op.create_table('ledger_snapshot',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('fund_key', sa.String(length=10), nullable=False),
    sa.Column('basis', sa.String(length=9), nullable=False),
    sa.Column('cut', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entries', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("basis IN ('effective', 'recorded')", name=op.f('ck_ledger_snapshot_basis')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_snapshot'))
    )
    op.create_index('ix_ledger_snapshot_fund', 'ledger_snapshot', ['fund_key', 'basis', 'cut'], unique=False)
    op.create_table('ledger_snapshot_balance',
    sa.Column('account_id', BIG_ID, nullable=False),
    sa.Column('basis', sa.String(length=9), nullable=False),
    sa.Column('snapshot_id', BIG_ID, nullable=False),
    sa.Column('debit_minus_credit', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], name=op.f('fk_ledger_snapshot_balance_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['ledger_snapshot.id'], name=op.f('fk_ledger_snapshot_balance_snapshot_id_ledger_snapshot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'basis', 'snapshot_id', name=op.f('pk_ledger_snapshot_balance'))
    )
    op.create_index(op.f('ix_ledger_snapshot_balance_snapshot_id'), 'ledger_snapshot_balance', ['snapshot_id'], unique=False)
    op.create_index('ix_journal_entry_fund_effective', 'journal_entry', ['region_code', 'insutype', 'effective_at'], unique=False)
    op.create_index('ix_journal_entry_fund_recorded', 'journal_entry', ['region_code', 'insutype', 'recorded_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        stale = STALE.format(region="n.region_code", insutype="n.insutype", effective="n.effective", recorded="n.recorded")
        op.execute(
            f"""
            CREATE FUNCTION ledger_snapshot_stale() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM ledger_snapshot
                 USING (SELECT region_code, insutype, min(effective_at) AS effective,
                               min(recorded_at) AS recorded
                          FROM new_entries GROUP BY region_code, insutype) n
                 WHERE {stale};
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER journal_entry_snapshot_stale AFTER INSERT ON journal_entry "
            "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT "
            "EXECUTE FUNCTION ledger_snapshot_stale()"
        )
    else:
        stale = STALE.format(region="NEW.region_code", insutype="NEW.insutype", effective="NEW.effective_at", recorded="NEW.recorded_at")
        op.execute(
            "CREATE TRIGGER journal_entry_snapshot_stale AFTER INSERT ON journal_entry BEGIN "
            "DELETE FROM ledger_snapshot_balance WHERE snapshot_id IN "
            f"(SELECT id FROM ledger_snapshot WHERE {stale}); "
            f"DELETE FROM ledger_snapshot WHERE {stale}; END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS journal_entry_snapshot_stale" + (" ON journal_entry" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_snapshot_stale()")
    op.drop_index('ix_journal_entry_fund_recorded', table_name='journal_entry')
    op.drop_index('ix_journal_entry_fund_effective', table_name='journal_entry')
    op.drop_index(op.f('ix_ledger_snapshot_balance_snapshot_id'), table_name='ledger_snapshot_balance')
    op.drop_table('ledger_snapshot_balance')
    op.drop_index('ix_ledger_snapshot_fund', table_name='ledger_snapshot')
    op.drop_table('ledger_snapshot')
