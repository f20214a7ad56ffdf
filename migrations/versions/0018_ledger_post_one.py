"""ledger: post one entry in one call on PostgreSQL (issue 20.1)

`ledger_post_one(...)`: the fund's chain-head lock (its row created on first use), the
idempotency lookup, the accounts (created on first use), the postings, the entry (whose
insert the balance trigger of 0003 checks, and the snapshot trigger of 0016 follows), the
maintained balances and the chain head, in one server-side call: one round trip per entry
instead of eight. The entry's chain hash is `sha256(prev_hash || chr(31) || tail)`, the tail
computed by the caller (`rules.chain_tail`) exactly as `rules.chain_hash` hashes it. Returns
the entry's id and `posted`, `replayed` (the key stands for the same content) or `conflict`
(the key stands for other content; nothing written). SQLite keeps the Python path.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 04:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = (
    "text, text, text, text, text, text, text, text, text, timestamptz, timestamptz, text, text,"
    " text[], text[], text[], text[], text[], bigint[]"
)

FUNCTION = """
CREATE FUNCTION ledger_post_one(
    p_fund_key text, p_kind text, p_key text, p_digest text, p_business_ref text,
    p_region text, p_insutype text, p_fixmedins text, p_period text,
    p_effective timestamptz, p_recorded timestamptz, p_memo text, p_hash_tail text,
    p_codes text[], p_names text[], p_institutions text[], p_normal_sides text[],
    p_sides text[], p_amounts bigint[],
    OUT posted_id bigint, OUT outcome text
) LANGUAGE plpgsql AS $$
DECLARE
    v_prev text;
    v_hash text;
    v_stored text;
    v_ids bigint[];
BEGIN
    -- The fund's chain head, locked to the end of the caller's transaction (as the Python
    -- path and the snapshot job lock it): one poster per fund ledger at a time.
    SELECT c.last_hash INTO v_prev FROM ledger_chain c WHERE c.fund_key = p_fund_key FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO ledger_chain (fund_key, last_entry_id, last_hash)
        VALUES (p_fund_key, NULL, repeat('0', 64)) ON CONFLICT DO NOTHING;
        SELECT c.last_hash INTO STRICT v_prev
          FROM ledger_chain c WHERE c.fund_key = p_fund_key FOR UPDATE;
    END IF;
    -- Idempotency, under the lock: a concurrent post of the key has committed or not.
    SELECT e.id, e.request_hash INTO posted_id, v_stored
      FROM journal_entry e WHERE e.idempotency_key = p_key;
    IF FOUND THEN
        outcome := CASE WHEN v_stored = p_digest THEN 'replayed' ELSE 'conflict' END;
        RETURN;
    END IF;
    SELECT array_agg(a.id ORDER BY u.i) INTO v_ids
      FROM unnest(p_codes) WITH ORDINALITY AS u(code, i) JOIN ledger_account a ON a.code = u.code;
    IF coalesce(cardinality(v_ids), 0) <> cardinality(p_codes) THEN
        INSERT INTO ledger_account (code, name, region_code, insutype, fixmedins_code,
                                    normal_side, balance_fen)
        SELECT DISTINCT u.c, u.n, p_region, p_insutype, u.f, u.s, 0
          FROM unnest(p_codes, p_names, p_institutions, p_normal_sides) AS u(c, n, f, s)
        ON CONFLICT (code) DO NOTHING;
        SELECT array_agg(a.id ORDER BY u.i) INTO v_ids
          FROM unnest(p_codes) WITH ORDINALITY AS u(code, i)
          JOIN ledger_account a ON a.code = u.code;
    END IF;
    posted_id := nextval('{sequence}'::regclass);
    v_hash := encode(sha256(convert_to(v_prev || chr(31) || p_hash_tail, 'UTF8')), 'hex');
    -- Postings first, in line order (their ids keep the order), then the entry: the balance
    -- trigger refuses the entry unless its postings balance.
    INSERT INTO ledger_posting (entry_id, account_id, side, amount_fen)
    SELECT posted_id, u.a, u.s, u.m
      FROM unnest(v_ids, p_sides, p_amounts) WITH ORDINALITY AS u(a, s, m, i) ORDER BY u.i;
    INSERT INTO journal_entry (id, kind, idempotency_key, request_hash, business_ref,
                               region_code, insutype, fixmedins_code, period, effective_at,
                               recorded_at, reverses_entry_id, memo, prev_hash, entry_hash)
    VALUES (posted_id, p_kind, p_key, p_digest, p_business_ref, p_region, p_insutype,
            p_fixmedins, p_period, p_effective, p_recorded, NULL, p_memo, v_prev, v_hash);
    -- Maintained balances; the accounts are all of this fund, whose lock we hold.
    UPDATE ledger_account a SET balance_fen = a.balance_fen + d.delta
      FROM (SELECT u.a AS id, sum(CASE WHEN u.s = 'D' THEN u.m ELSE -u.m END) AS delta
              FROM unnest(v_ids, p_sides, p_amounts) AS u(a, s, m) GROUP BY u.a) d
     WHERE a.id = d.id AND d.delta <> 0;
    UPDATE ledger_chain SET last_entry_id = posted_id, last_hash = v_hash
     WHERE fund_key = p_fund_key;
    outcome := 'posted';
END $$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    sequence = bind.execute(
        sa.text("SELECT pg_get_serial_sequence('journal_entry', 'id')")
    ).scalar_one()
    op.execute(FUNCTION.replace("{sequence}", sequence))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS ledger_post_one({SIGNATURE})")
