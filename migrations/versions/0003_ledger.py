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
    sa.Column('sealed', sa.Boolean(), nullable=False),
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
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_ledger_posting_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_posting'))
    )
    with op.batch_alter_table('ledger_posting', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_posting_account', ['account_id', 'entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_posting_entry_id'), ['entry_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _postgres_guards()
    else:
        _sqlite_guards()


# Entries are inserted unsealed, their postings added, then sealed: the only update the
# database accepts, and only when the entry balances with at least two postings. Postings
# cannot be added to a sealed entry; nothing is ever updated or deleted otherwise.
ENTRY_COLUMNS = (
    "id", "kind", "idempotency_key", "request_hash", "business_ref", "region_code",
    "insutype", "fixmedins_code", "period", "effective_at", "recorded_at",
    "reverses_entry_id", "memo", "prev_hash", "entry_hash",
)


def _postgres_guards() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NEW.sealed THEN
                    RAISE EXCEPTION 'journal entries are inserted unsealed and sealed once balanced'
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END IF;
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'journal_entry is append-only' USING ERRCODE = 'restrict_violation';
            END IF;
            IF OLD.sealed OR NOT NEW.sealed
               OR (to_jsonb(NEW) - 'sealed') IS DISTINCT FROM (to_jsonb(OLD) - 'sealed') THEN
                RAISE EXCEPTION 'journal_entry is append-only (only sealing is allowed)'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER journal_entry_guard BEFORE INSERT OR UPDATE OR DELETE ON journal_entry "
        "FOR EACH ROW EXECUTE FUNCTION ledger_entry_guard()"
    )
    # Set-based balance check of every entry sealed by one statement.
    op.execute(
        """
        CREATE FUNCTION ledger_entry_sealed_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE bad RECORD;
        BEGIN
            SELECT n.id, coalesce(sum(CASE WHEN p.side = 'D' THEN p.amount_fen END), 0) AS d,
                   coalesce(sum(CASE WHEN p.side = 'C' THEN p.amount_fen END), 0) AS c,
                   count(p.id) AS postings
              INTO bad
              FROM sealed_rows n LEFT JOIN ledger_posting p ON p.entry_id = n.id
             GROUP BY n.id
            HAVING count(p.id) < 2
                OR coalesce(sum(CASE WHEN p.side = 'D' THEN p.amount_fen END), 0)
                   <> coalesce(sum(CASE WHEN p.side = 'C' THEN p.amount_fen END), 0)
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
        "CREATE TRIGGER journal_entry_sealed_balanced AFTER UPDATE ON journal_entry "
        "REFERENCING NEW TABLE AS sealed_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION ledger_entry_sealed_balanced()"
    )
    # At commit every entry must be sealed: an unbalanced entry cannot commit.
    op.execute(
        """
        CREATE FUNCTION ledger_entry_sealed_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.id AND sealed) THEN
                RAISE EXCEPTION 'journal entry % was not sealed (unbalanced) at commit', NEW.id
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER journal_entry_sealed_at_commit AFTER INSERT ON journal_entry "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION ledger_entry_sealed_at_commit()"
    )
    op.execute(
        """
        CREATE FUNCTION ledger_posting_open_entry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_postings p JOIN journal_entry e ON e.id = p.entry_id
                       WHERE e.sealed) THEN
                RAISE EXCEPTION 'postings cannot be added to a sealed journal entry'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER ledger_posting_open_entry AFTER INSERT ON ledger_posting "
        "REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT "
        "EXECUTE FUNCTION ledger_posting_open_entry()"
    )
    op.execute(
        "CREATE TRIGGER ledger_posting_append_only BEFORE UPDATE OR DELETE ON ledger_posting "
        "FOR EACH STATEMENT EXECUTE FUNCTION fundledger_append_only()"
    )
    for table in ("journal_entry", "ledger_posting"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION fundledger_append_only()"
        )


def _sqlite_guards() -> None:
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in ENTRY_COLUMNS)
    statements = [
        "CREATE TRIGGER journal_entry_insert_unsealed BEFORE INSERT ON journal_entry "
        "WHEN NEW.sealed <> 0 BEGIN SELECT RAISE(ABORT, "
        "'journal entries are inserted unsealed and sealed once balanced'); END",
        "CREATE TRIGGER journal_entry_no_delete BEFORE DELETE ON journal_entry "
        "BEGIN SELECT RAISE(ABORT, 'journal_entry is append-only'); END",
        "CREATE TRIGGER journal_entry_only_sealing BEFORE UPDATE ON journal_entry "
        f"WHEN OLD.sealed <> 0 OR NEW.sealed = 0 OR {changed} "
        "BEGIN SELECT RAISE(ABORT, 'journal_entry is append-only (only sealing is allowed)'); END",
        "CREATE TRIGGER journal_entry_sealed_balanced BEFORE UPDATE OF sealed ON journal_entry "
        "WHEN (SELECT count(*) FROM ledger_posting WHERE entry_id = NEW.id) < 2 "
        "OR (SELECT coalesce(sum(CASE WHEN side = 'D' THEN amount_fen ELSE -amount_fen END), 0) "
        "FROM ledger_posting WHERE entry_id = NEW.id) <> 0 "
        "BEGIN SELECT RAISE(ABORT, 'journal entry is unbalanced'); END",
        "CREATE TRIGGER ledger_posting_open_entry BEFORE INSERT ON ledger_posting "
        "WHEN (SELECT sealed FROM journal_entry WHERE id = NEW.entry_id) <> 0 "
        "BEGIN SELECT RAISE(ABORT, 'postings cannot be added to a sealed journal entry'); END",
        "CREATE TRIGGER ledger_posting_no_update BEFORE UPDATE ON ledger_posting "
        "BEGIN SELECT RAISE(ABORT, 'ledger_posting is append-only'); END",
        "CREATE TRIGGER ledger_posting_no_delete BEFORE DELETE ON ledger_posting "
        "BEGIN SELECT RAISE(ABORT, 'ledger_posting is append-only'); END",
    ]
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
        for function in (
            "ledger_entry_guard", "ledger_entry_sealed_balanced",
            "ledger_entry_sealed_at_commit", "ledger_posting_open_entry",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
