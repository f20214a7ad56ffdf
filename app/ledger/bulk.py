"""Set-based writes of a batch of entries on PostgreSQL (`post_many`, issue 20.3).

A batch (a daily batch's 10,000 accruals, a job's payments) touches thousands of accounts,
often for the first time. `accounts_with_deltas` creates the missing ones with their balance
already set (the batch's net movement on them) in one `INSERT … ON CONFLICT DO NOTHING
RETURNING`, and adds the movement to the existing ones in one `UPDATE … FROM unnest(…)
RETURNING`: two statements for any number of accounts, no per-account round trip, and a new
account's row is written once instead of inserted and then updated. `copy_rows` writes rows
given as tuples by a binary COPY (no per-row dictionaries, no text); SQLite inserts them
with one multi-row INSERT and keeps `posting.ensure_accounts` and the per-account balance
updates.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.db import COPY_ROWS_MIN
from app.ledger import rules

# Two array parameters whatever the number of accounts (each array of 20,000 costs the driver
# and the server milliseconds): the name, institution and normal side are derived from the
# code, joined to the account types (a short array); a code whose shape is not its type's
# (`rules.account_code`) matches nothing and is reported below. Sent on the driver's cursor
# with binary parameters (`%b`: no per-element quoting) and read as plain tuples (an ORM
# result costs ~6 µs a row).
_CREATE = (
    "INSERT INTO ledger_account (code, name, region_code, insutype, fixmedins_code,"
    " normal_side, balance_fen)"
    " SELECT u.c, t.n, %(region)s::text, %(insutype)s::text,"
    " nullif(split_part(u.c, ':', 4), ''), t.s, u.d"
    " FROM unnest(%(codes)b::text[], %(deltas)b::bigint[]) AS u(c, d)"
    " JOIN unnest(%(names)b::text[], %(sides)b::text[], %(kept)b::boolean[]) AS t(n, s, k)"
    " ON t.n = split_part(u.c, ':', 1)"
    " WHERE t.k = (split_part(u.c, ':', 4) <> '')"
    " AND u.c = concat_ws(':', t.n, %(region)s::text, %(insutype)s::text,"
    " CASE WHEN t.k THEN split_part(u.c, ':', 4) END)"
    " ON CONFLICT (code) DO NOTHING RETURNING code, id"
)
_MOVE = (
    "UPDATE ledger_account SET balance_fen = ledger_account.balance_fen + u.d"
    " FROM unnest(%(codes)b::text[], %(deltas)b::bigint[]) AS u(c, d)"
    " WHERE ledger_account.code = u.c RETURNING ledger_account.code, ledger_account.id"
)
_FIND = "SELECT code, id FROM ledger_account WHERE code = ANY(%(codes)b::text[])"
_TYPES = {
    "names": list(rules.ACCOUNT_TYPES),
    "sides": [side for side, _ in rules.ACCOUNT_TYPES.values()],
    "kept": [per_institution for _, per_institution in rules.ACCOUNT_TYPES.values()],
}


def fetch(session: Session, statement: str, parameters: Mapping[str, Any]) -> list[Any]:
    """Rows of a statement run on the session's connection by the driver (psycopg
    placeholders), as tuples. PostgreSQL."""
    session.flush()  # the caller's pending rows go first, as an autoflush would send them
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(statement, parameters)
        return cursor.fetchall() if cursor.description else []


def accounts_with_deltas(
    session: Session, region_code: str, insutype: str, deltas: Mapping[str, int]
) -> dict[str, int]:
    """Account ids by code for every code of `deltas` (debit minus credit per account, all
    of fund ledger region_code:insutype), each account's maintained balance moved by its
    delta: missing accounts are created with it, existing ones updated. PostgreSQL; the
    caller holds the fund's chain lock (every poster of these accounts does), so no other
    poster moves them meanwhile."""
    codes = sorted(deltas)  # created in code order, as before: ids do not depend on the caller
    fund = {"region": region_code, "insutype": insutype}
    created = fetch(
        session,
        _CREATE,
        {**fund, **_TYPES, "codes": codes, "deltas": [deltas[code] for code in codes]},
    )
    ids: dict[str, int] = dict(created)
    if len(ids) == len(codes):
        return ids  # a first batch: every account new
    moving = [code for code in codes if code not in ids and deltas[code]]
    if moving:
        moved = fetch(session, _MOVE, {"codes": moving, "deltas": [deltas[c] for c in moving]})
        ids.update(moved)
    still = [code for code in codes if code not in ids]  # existing and not moved, or invalid
    if still:
        ids.update(fetch(session, _FIND, {"codes": still}))
    for code in codes:
        if code not in ids:
            rules.parse_account_code(code)  # raises LedgerRuleError for a malformed code
            raise rules.LedgerRuleError(f"account {code!r} is not of fund {region_code}:{insutype}")
    return ids


def copy_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Insert rows (tuples in `columns` order); on PostgreSQL from `COPY_ROWS_MIN` rows up by
    a binary COPY (`types`: the columns' PostgreSQL types; no text to format or parse: ~17 %
    faster than a text COPY for a batch's entries, a sixth of the client's time), else one
    multi-row INSERT."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql" or len(rows) < COPY_ROWS_MIN:
        session.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    driver = session.connection().connection.driver_connection
    assert driver is not None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a batch is built: its ~10 objects per entry (drafts,
    lines, rows) are acyclic and freed by reference counting, but their number sets off full
    collections that walk every object of the process (~0.2 s of a 10,000-entry daily batch,
    a third of its Python time). Re-entrant; collection resumes as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
