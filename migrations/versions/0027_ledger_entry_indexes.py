"""ledger: less database work per journal entry (issue 20.3)

- `ix_journal_entry_recorded_at` dropped: every query on `recorded_at` names its fund
  (snapshots, as-of on the recorded basis) and `ix_journal_entry_fund_recorded` serves it.
- `ix_journal_entry_kind` made partial, `WHERE kind <> 'daily_accrual'`: the daily batch's
  entries (10,000 a fund a day, most of the ledger) are not in it. Its users look for the rare
  kinds (the three-flow check's `instruction_sent` / `instruction_success`; a search by one
  of them), which it still serves; a search for `daily_accrual` reads the entries in id order
  as it would anyway (they are most rows).
- The two statement-level guard triggers read the batch's range of ids instead of probing
  one id at a time: `ledger_posting_new_entry` (no posting of an entry that exists) looks
  for existing entries in [min, max] of the new postings' entry ids (one index range,
  usually empty, instead of one probe per posting); `ledger_entry_balanced` sums the
  postings of the new entries' id range in one index range scan when the ids are dense (a
  batch's, from the sequence), else one lookup per entry as before. Same checks, same errors.
- Data: the accounts an enrolment opens (`expense`, `payable` of the institution in that
  fund; the 610 expense is region-level) are created for the enrolments that have not ended,
  `ON CONFLICT DO NOTHING` (idempotent; one INSERT … SELECT). New enrolments open them
  (`ledger.open_enrolment_accounts` via `app.wiring`); batches still create missing ones. The
  downgrade leaves them (accounts with no postings, indistinguishable from first use).

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND_PARTIAL = "kind <> 'daily_accrual'"

ENROLMENT_ACCOUNTS = """
INSERT INTO ledger_account (code, name, region_code, insutype, fixmedins_code, normal_side,
                            balance_fen)
SELECT a.name || ':' || i.region_code || ':' || e.insutype || ':' || i.code, a.name,
       i.region_code, e.insutype, i.code, a.side, 0
  FROM enrollment e
  JOIN institution i ON i.code = e.fixmedins_code
 CROSS JOIN (SELECT 'expense' AS name, 'D' AS side UNION ALL SELECT 'payable', 'C') a
 WHERE (e.end_date IS NULL OR e.end_date >= {today})
   AND NOT (a.name = 'expense' AND e.insutype = '610')
ON CONFLICT (code) DO NOTHING
"""

NEW_ENTRY_RANGE = """
CREATE OR REPLACE FUNCTION ledger_posting_new_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE low bigint; high bigint;
BEGIN
    SELECT min(entry_id), max(entry_id) INTO low, high FROM new_postings;
    -- the new postings' entries are usually not inserted yet: one empty index range
    IF EXISTS (SELECT 1 FROM journal_entry e WHERE e.id BETWEEN low AND high
                  AND EXISTS (SELECT 1 FROM new_postings p WHERE p.entry_id = e.id)) THEN
        RAISE EXCEPTION 'postings cannot be added to a posted journal entry'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END $$
"""

NEW_ENTRY_OLD = """
CREATE OR REPLACE FUNCTION ledger_posting_new_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_postings p
               WHERE EXISTS (SELECT 1 FROM journal_entry e WHERE e.id = p.entry_id)) THEN
        RAISE EXCEPTION 'postings cannot be added to a posted journal entry'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END $$
"""

BALANCED_RANGE = """
CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad RECORD; low bigint; high bigint; entries bigint;
BEGIN
    SELECT min(id), max(id), count(*) INTO low, high, entries FROM new_entries;
    IF high - low < 2 * entries THEN
        -- dense ids (a batch's): one index range scan over the postings of the range
        SELECT n.id, coalesce(s.d, 0) AS d, coalesce(s.c, 0) AS c,
               coalesce(s.postings, 0) AS postings
          INTO bad
          FROM new_entries n
          LEFT JOIN (
                SELECT p.entry_id,
                       sum(CASE WHEN p.side = 'D' THEN p.amount_fen ELSE 0 END) AS d,
                       sum(CASE WHEN p.side = 'C' THEN p.amount_fen ELSE 0 END) AS c,
                       count(*) AS postings
                  FROM ledger_posting p WHERE p.entry_id BETWEEN low AND high
                 GROUP BY p.entry_id) s ON s.entry_id = n.id
         WHERE coalesce(s.postings, 0) < 2 OR coalesce(s.d, 0) <> coalesce(s.c, 0)
         LIMIT 1;
    ELSE
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
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % is unbalanced (debits %, credits %, postings %)',
            bad.id, bad.d, bad.c, bad.postings USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""

BALANCED_OLD = """
CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
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


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_journal_entry_recorded_at", table_name="journal_entry")
    op.drop_index("ix_journal_entry_kind", table_name="journal_entry")
    op.create_index(
        "ix_journal_entry_kind",
        "journal_entry",
        ["kind"],
        postgresql_where=sa.text(KIND_PARTIAL),
        sqlite_where=sa.text(KIND_PARTIAL),
    )
    if postgresql:
        op.execute(NEW_ENTRY_RANGE)
        op.execute(BALANCED_RANGE)
    op.execute(
        ENROLMENT_ACCOUNTS.format(today="CURRENT_DATE" if postgresql else "date('now')")
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BALANCED_OLD)
        op.execute(NEW_ENTRY_OLD)
    op.drop_index("ix_journal_entry_kind", table_name="journal_entry")
    op.create_index("ix_journal_entry_kind", "journal_entry", ["kind"])
    op.create_index("ix_journal_entry_recorded_at", "journal_entry", ["recorded_at"])
