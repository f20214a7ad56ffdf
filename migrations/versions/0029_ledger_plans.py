"""ledger: plans of the single post and of the guard triggers that neither go stale nor are
remade on every call (issue 20.1)

Two costs found by profiling the server side of `ledger_post_one` (perf, one backend):
- Its statements over the caller's arrays (`unnest(p_codes)`, the postings, the balance
  deltas) were planned anew on every call: PostgreSQL's plan cache kept choosing a custom
  plan because the generic one's row estimate for `unnest` of a parameter is 10 rows. About a
  sixth of the call's server time was the planner.
- The plans of the guard triggers (`ledger_posting_new_entry`, `ledger_entry_balanced`) are
  cached per connection and made once, with the table sizes of that moment: a connection that
  first posted into an empty ledger kept a hash join over a sequential scan of `journal_entry`
  and paid for every row of it on each later post (the server time per post grew with the
  ledger: 0.69 → 0.89 ms over 6,000 posts). Without autovacuum nothing replans them.

Both checks only ever look rows up by key (the new rows against an index), so they are
pinned to index lookups: the functions run with hash and merge joins and sequential scans
disabled, which leaves nested loops over the indexes whatever the table sizes at planning
time, and the single post always uses its generic plans (made once per connection). Measured
server CPU per post: 0.69–0.91 ms → 0.43–0.46 ms, flat as the ledger grows. The settings are
the functions' own (`ALTER FUNCTION ... SET`): they apply while the function runs and to
nothing else. PostgreSQL only; SQLite has no such functions.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30 14:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX_LOOKUPS_ONLY = ("enable_hashjoin = off", "enable_mergejoin = off", "enable_seqscan = off")
FUNCTIONS = {
    "ledger_post_one": (*INDEX_LOOKUPS_ONLY, "plan_cache_mode = force_generic_plan"),
    "ledger_posting_new_entry": INDEX_LOOKUPS_ONLY,
    "ledger_entry_balanced": INDEX_LOOKUPS_ONLY,
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function, settings in FUNCTIONS.items():
        for setting in settings:
            op.execute(f"ALTER FUNCTION {function} SET {setting}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} RESET ALL")
