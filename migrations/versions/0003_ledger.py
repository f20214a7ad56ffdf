"""ledger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:22:20.486250
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('journal_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('business_ref', sa.String(length=120), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reverses_entry_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=True),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['reverses_entry_id'], ['journal_entry.id'], name=op.f('fk_journal_entry_reverses_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_journal_entry_idempotency_key')),
    sa.UniqueConstraint('reverses_entry_id', name=op.f('uq_journal_entry_reverses_entry_id'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_entry_effective_at'), ['effective_at'], unique=False)
        batch_op.create_index('ix_journal_entry_fund', ['region_code', 'insutype', 'id'], unique=False)
        batch_op.create_index('ix_journal_entry_institution', ['fixmedins_code', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_entry_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_entry_recorded_at'), ['recorded_at'], unique=False)

    op.create_table('ledger_account',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=True),
    sa.Column('normal_side', sa.String(length=1), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("normal_side IN ('D', 'C')", name=op.f('ck_ledger_account_normal_side')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_account_code'))
    )
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_account_fund', ['region_code', 'insutype', 'fixmedins_code'], unique=False)

    op.create_table('ledger_chain',
    sa.Column('fund_key', sa.String(length=10), nullable=False),
    sa.Column('last_entry_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('fund_key', name=op.f('pk_ledger_chain'))
    )
    op.create_table('ledger_posting',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('side', sa.String(length=1), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("side IN ('D', 'C')", name=op.f('ck_ledger_posting_side')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_ledger_posting_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], name=op.f('fk_ledger_posting_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_ledger_posting_entry_id_journal_entry'), initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_posting'))
    )
    with op.batch_alter_table('ledger_posting', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_posting_account', ['account_id', 'entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_posting_entry_id'), ['entry_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _postgres_guards()
    else:
        _sqlite_guards()


# An entry's postings are inserted first (their foreign key to the entry is checked at
# commit), then the entry: its insert is refused unless those postings balance, with at
# least two of them. Postings cannot be added to an entry that exists. Nothing is ever
# updated or deleted. So an unbalanced or incomplete entry can never commit, on either
# database, whatever SQL is sent.


def _postgres_guards() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE bad RECORD;
        BEGIN
            -- LATERAL: one index lookup per new entry (transition tables have no
            -- statistics; a join could scan every posting).
            SELECT n.id, s.d, s.c, s.postings
              INTO bad
              FROM new_entries n
             CROSS JOIN LATERAL (
                   SELECT coalesce(sum(CASE WHEN p.side = 'D' THEN p.amount_fen END), 0) AS d,
                          coalesce(sum(CASE WHEN p.side = 'C' THEN p.amount_fen END), 0) AS c,
                          count(*) AS postings
                     FROM ledger_posting p WHERE p.entry_id = n.id) s
             WHERE s.postings < 2 OR s.d <> s.c
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'journal entry % is unbalanced (debits %, credits %, postings %)',
                    bad.id, bad.d, bad.c, bad.postings USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER journal_entry_balanced AFTER INSERT ON journal_entry "
        "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT "
        "EXECUTE FUNCTION ledger_entry_balanced()"
    )
    op.execute(
        """
        CREATE FUNCTION ledger_posting_new_entry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_postings p
                       WHERE EXISTS (SELECT 1 FROM journal_entry e WHERE e.id = p.entry_id)) THEN
                RAISE EXCEPTION 'postings cannot be added to a posted journal entry'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER ledger_posting_new_entry AFTER INSERT ON ledger_posting "
        "REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT "
        "EXECUTE FUNCTION ledger_posting_new_entry()"
    )
    for table in ("journal_entry", "ledger_posting"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION fundledger_append_only()"
        )


def _sqlite_guards() -> None:
    statements = [
        "CREATE TRIGGER journal_entry_balanced BEFORE INSERT ON journal_entry "
        "WHEN (SELECT count(*) FROM ledger_posting WHERE entry_id = NEW.id) < 2 "
        "OR (SELECT coalesce(sum(CASE WHEN side = 'D' THEN amount_fen ELSE -amount_fen END), 0) "
        "FROM ledger_posting WHERE entry_id = NEW.id) <> 0 "
        "BEGIN SELECT RAISE(ABORT, 'journal entry is unbalanced'); END",
        "CREATE TRIGGER ledger_posting_new_entry BEFORE INSERT ON ledger_posting "
        "WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id) "
        "BEGIN SELECT RAISE(ABORT, 'postings cannot be added to a posted journal entry'); END",
    ]
    for table in ("journal_entry", "ledger_posting"):
        for event in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('ledger_posting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_posting_entry_id'))
        batch_op.drop_index('ix_ledger_posting_account')

    op.drop_table('ledger_posting')
    op.drop_table('ledger_chain')
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_account_fund')

    op.drop_table('ledger_account')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journal_entry_recorded_at'))
        batch_op.drop_index(batch_op.f('ix_journal_entry_kind'))
        batch_op.drop_index('ix_journal_entry_institution')
        batch_op.drop_index('ix_journal_entry_fund')
        batch_op.drop_index(batch_op.f('ix_journal_entry_effective_at'))

    op.drop_table('journal_entry')
    if op.get_bind().dialect.name == "postgresql":
        for function in ("ledger_entry_balanced", "ledger_posting_new_entry"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
