"""Posting: balanced, idempotent, hash-chained journal entries (STYLE.md 2).

`post` / `post_many` write entries set-based, in order, per fund ledger chain; `reverse`
corrects by a mirror entry. On PostgreSQL a single `post` is one call of the server-side
function `ledger_post_one` (fastpost.py, migration 0018); everything else takes the path
below. Callers open the transaction; this module only flushes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from app.db import any_of, dialect_insert, in_chunks, reserve_ids
from app.errors import Conflict, NotFound
from app.ledger import bulk, entries, fastpost, rules
from app.ledger.journal import entry_lines, get_entry
from app.ledger.models import JournalEntry, LedgerAccount, LedgerChain, LedgerPosting
from app.ledger.rules import Draft

ENTRY = cast(Table, JournalEntry.__table__)
POSTING = cast(Table, LedgerPosting.__table__)
ACCOUNT = cast(Table, LedgerAccount.__table__)
CHAIN = cast(Table, LedgerChain.__table__)


class LedgerConflict(Conflict):
    code = "ledger-conflict"


def _conflict(key: str) -> LedgerConflict:
    return LedgerConflict(f"idempotency key {key!r} was already posted with other content")


@dataclass(frozen=True)
class Posted:
    entry_id: int
    key: str
    replayed: bool  # True when the key already stood for the same content


# PostgreSQL posts a single entry in one call of `ledger_post_one` (fastpost.py); False sends
# it the Python way (bench.ledger measures both).
ONE_CALL_POST = True


def post(session: Session, draft: Draft, *, now: datetime) -> Posted:
    """Post one balanced entry; replaying its key with the same content posts nothing."""
    if (
        ONE_CALL_POST
        and draft.reverses_entry_id is None
        and session.get_bind().dialect.name == "postgresql"
    ):
        assert now.tzinfo is not None
        entry_id, outcome = fastpost.post_one(session, draft, now)
        if outcome == "conflict":
            raise _conflict(draft.key)
        return Posted(entry_id, draft.key, outcome == "replayed")
    return post_many(session, [draft], now=now)[0]


def post_many(session: Session, drafts: Sequence[Draft], *, now: datetime) -> list[Posted]:
    """Post many entries set-based (multi-row inserts), in order, per fund ledger chain."""
    assert now.tzinfo is not None
    results: dict[int, Posted] = {}
    by_fund: dict[str, list[tuple[int, Draft]]] = defaultdict(list)
    for index, draft in enumerate(drafts):
        by_fund[f"{draft.region_code}:{draft.insutype}"].append((index, draft))
    for fund_key in sorted(by_fund):
        indexed = by_fund[fund_key]
        with bulk.paused_gc():
            posted = _post_fund(session, fund_key, [draft for _, draft in indexed], now)
        for (index, _), result in zip(indexed, posted, strict=True):
            results[index] = result
    return [results[index] for index in range(len(drafts))]


def _lock_chain(session: Session, fund_key: str) -> tuple[int | None, str]:
    """Lock the fund ledger's chain head (created on first use) for this transaction."""
    locked = (
        select(LedgerChain.last_entry_id, LedgerChain.last_hash)
        .where(LedgerChain.fund_key == fund_key)
        .with_for_update()
    )
    row = session.execute(locked).first()
    if row is None:
        statement = dialect_insert(session, CHAIN).values(
            fund_key=fund_key, last_entry_id=None, last_hash=rules.GENESIS_HASH
        )
        session.execute(statement.on_conflict_do_nothing())
        row = session.execute(locked).one()
    return row.last_entry_id, row.last_hash


def _existing(session: Session, keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    connection = session.connection()  # Core rows: a replayed batch returns thousands
    for chunk in in_chunks(session, list(keys)):
        rows = connection.execute(
            select(JournalEntry.idempotency_key, JournalEntry.id, JournalEntry.request_hash).where(
                any_of(session, JournalEntry.idempotency_key, chunk)
            )
        )
        for key, entry_id, digest in rows:
            found[key] = (entry_id, digest)
    return found


def ensure_accounts(session: Session, codes: Sequence[str]) -> dict[str, int]:
    """Account ids by code, creating missing accounts (first use)."""
    wanted = sorted(set(codes))
    ids: dict[str, int] = {}
    for chunk in in_chunks(session, wanted):
        ids.update(
            session.execute(
                select(LedgerAccount.code, LedgerAccount.id).where(
                    any_of(session, LedgerAccount.code, chunk)
                )
            ).all()
        )
    missing = [code for code in wanted if code not in ids]
    if missing:
        rows = []
        for code in missing:
            name, region, insutype, institution = rules.parse_account_code(code)
            rows.append(
                {
                    "code": code,
                    "name": name,
                    "region_code": region,
                    "insutype": insutype,
                    "fixmedins_code": institution,
                    "normal_side": rules.ACCOUNT_TYPES[name][0],
                    "balance_fen": 0,
                }
            )
        _insert_accounts(session, rows)
        for chunk in in_chunks(session, missing):
            ids.update(
                session.execute(
                    select(LedgerAccount.code, LedgerAccount.id).where(
                        any_of(session, LedgerAccount.code, chunk)
                    )
                ).all()
            )
    assert all(code in ids for code in wanted)
    return ids


def _insert_accounts(session: Session, rows: list[dict[str, Any]]) -> None:
    """Create accounts, ignoring those created meanwhile (ON CONFLICT DO NOTHING)."""
    if session.get_bind().dialect.name == "postgresql" and len(rows) > 20:
        # One statement with array parameters (thousands of rows on a first batch).
        columns = ("code", "name", "region_code", "insutype", "fixmedins_code", "normal_side")
        session.execute(
            text(
                "INSERT INTO ledger_account (code, name, region_code, insutype, fixmedins_code,"
                " normal_side, balance_fen) SELECT c, n, r, i, f, s, 0 FROM unnest("
                "CAST(:code AS text[]), CAST(:name AS text[]), CAST(:region_code AS text[]),"
                " CAST(:insutype AS text[]), CAST(:fixmedins_code AS text[]),"
                " CAST(:normal_side AS text[])) AS u(c, n, r, i, f, s)"
                " ON CONFLICT (code) DO NOTHING"
            ),
            {column: [row[column] for row in rows] for column in columns},
        )
        return
    session.execute(dialect_insert(session, ACCOUNT).on_conflict_do_nothing(), rows)


def _reversed_keys(session: Session, drafts: Sequence[Draft]) -> dict[int, str]:
    ids = [d.reverses_entry_id for d in drafts if d.reverses_entry_id is not None]
    if not ids:
        return {}
    rows = session.execute(
        select(JournalEntry.id, JournalEntry.idempotency_key).where(JournalEntry.id.in_(ids))
    ).all()
    return dict(rows)


def _post_fund(
    session: Session, fund_key: str, drafts: Sequence[Draft], now: datetime
) -> list[Posted]:
    last_id, last_hash = _lock_chain(session, fund_key)
    reversed_keys = _reversed_keys(session, drafts)
    existing = _existing(session, [draft.key for draft in drafts])
    results: list[Posted | None] = []
    fresh: list[tuple[int, Draft, str]] = []
    seen: dict[str, str] = {}
    for draft in drafts:
        rules.check_fund(draft.lines, draft.region_code, draft.insutype)
        reverses_key = None
        if draft.reverses_entry_id is not None:
            reverses_key = reversed_keys.get(draft.reverses_entry_id)
            if reverses_key is None:
                raise NotFound(f"no journal entry {draft.reverses_entry_id} to reverse")
        digest = rules.request_hash(draft, reverses_key)
        stored = existing.get(draft.key)
        if stored is not None or draft.key in seen:
            stored_digest = stored[1] if stored is not None else seen[draft.key]
            if stored_digest != digest:
                raise _conflict(draft.key)
            results.append(Posted(stored[0], draft.key, True) if stored else None)
            continue
        seen[draft.key] = digest
        fresh.append((len(results), draft, digest))
        results.append(None)
    if fresh:
        new_ids, last_hash = _insert_entries(session, fresh, last_hash, now)
        for (position, draft, _), entry_id in zip(fresh, new_ids, strict=True):
            results[position] = Posted(entry_id, draft.key, False)
        last_id = new_ids[-1]
        session.execute(
            update(LedgerChain)
            .where(LedgerChain.fund_key == fund_key)
            .values(last_entry_id=last_id, last_hash=last_hash)
        )
    # Duplicates inside one call resolve to the first occurrence.
    by_key = {r.key: r for r in results if r is not None}
    return [
        r if r is not None else Posted(by_key[d.key].entry_id, d.key, True)
        for r, d in zip(results, drafts, strict=True)
    ]


# (column, PostgreSQL type) of the rows `_insert_entries` writes by binary COPY.
ENTRY_COLUMNS = (
    ("id", "int8"),
    ("kind", "text"),
    ("idempotency_key", "text"),
    ("request_hash", "text"),
    ("business_ref", "text"),
    ("region_code", "text"),
    ("insutype", "text"),
    ("fixmedins_code", "text"),
    ("period", "text"),
    ("effective_at", "timestamptz"),
    ("recorded_at", "timestamptz"),
    ("reverses_entry_id", "int8"),
    ("memo", "text"),
    ("prev_hash", "text"),
    ("entry_hash", "text"),
)
POSTING_COLUMNS = (
    ("entry_id", "int8"),
    ("account_id", "int8"),
    ("side", "text"),
    ("amount_fen", "int8"),
)


def _insert_entries(
    session: Session, fresh: Sequence[tuple[int, Draft, str]], prev_hash: str, now: datetime
) -> tuple[list[int], str]:
    """Postings first, then their entries: the database checks each entry's balance when the
    entry is inserted, and the postings' deferred foreign key at commit. Set-based whatever
    the number of entries: the accounts (and their balances) in one or two statements, the
    chain hashes in one pass, postings and entries by COPY on PostgreSQL (issue 20.3)."""
    deltas: dict[str, int] = defaultdict(int)
    for _, draft, _ in fresh:
        for line in draft.lines:
            deltas[line.account] += line.amount_fen if line.side == "D" else -line.amount_fen
    assert sum(deltas.values()) == 0, "posted entries net to zero"
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # accounts created with their balance, existing ones moved: one pass
        account_ids = bulk.accounts_with_deltas(
            session, fresh[0][1].region_code, fresh[0][1].insutype, deltas
        )
    else:
        account_ids = ensure_accounts(session, list(deltas))
    entry_ids = reserve_ids(session, ENTRY, len(fresh))
    hashes = rules.chain_hashes(
        prev_hash, [(draft.key, digest, draft.effective_at) for _, draft, digest in fresh], now
    )
    entry_rows = []
    posting_rows = []
    for entry_id, entry_hash, (_, draft, digest) in zip(entry_ids, hashes, fresh, strict=True):
        entry_rows.append(
            (
                entry_id,
                draft.kind,
                draft.key,
                digest,
                draft.business_ref,
                draft.region_code,
                draft.insutype,
                draft.fixmedins_code,
                draft.period,
                draft.effective_at,
                now,
                draft.reverses_entry_id,
                draft.memo[:300],
                prev_hash,
                entry_hash,
            )
        )
        prev_hash = entry_hash
        for line in draft.lines:
            posting_rows.append((entry_id, account_ids[line.account], line.side, line.amount_fen))
    for table, columns, rows in (
        (POSTING, POSTING_COLUMNS, posting_rows),
        (ENTRY, ENTRY_COLUMNS, entry_rows),
    ):
        names, types = zip(*columns, strict=True)
        bulk.copy_rows(session, table, names, types, rows)
    if not postgres:
        _apply_deltas(session, {account_ids[code]: d for code, d in deltas.items() if d})
    return entry_ids, prev_hash


def _apply_deltas(session: Session, deltas: dict[int, int]) -> None:
    """balance_fen += delta per account, in account order (a stable lock order). SQLite;
    PostgreSQL moves them with the accounts (`bulk.accounts_with_deltas`)."""
    if not deltas:
        return
    session.execute(
        update(ACCOUNT)
        .where(ACCOUNT.c.id == bindparam("account_id"))
        .values(balance_fen=ACCOUNT.c.balance_fen + bindparam("delta")),
        [{"account_id": a, "delta": d} for a, d in sorted(deltas.items())],
    )


def reverse(session: Session, entry_id: int, reason: str, *, now: datetime) -> Posted:
    """Post the mirror of an entry, once; a second reversal is a conflict."""
    entry = get_entry(session, entry_id)
    already = session.scalar(
        select(JournalEntry.id).where(JournalEntry.reverses_entry_id == entry_id)
    )
    if already is not None:
        raise LedgerConflict(f"journal entry {entry_id} was already reversed by {already}")
    draft = entries.reversal(
        entry_id=entry_id,
        entry_key=entry.idempotency_key,
        region_code=entry.region_code,
        insutype=entry.insutype,
        fixmedins_code=entry.fixmedins_code,
        period=entry.period,
        business_ref=entry.business_ref,
        lines=tuple(entry_lines(session, [entry_id])[entry_id]),
        reason=reason,
        effective_at=now,
    )
    return post(session, draft, now=now)
