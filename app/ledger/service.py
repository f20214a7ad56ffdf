"""The ledger: the only place money moves (STYLE.md 2).

`post` / `post_many` write balanced, idempotent, hash-chained journal entries; `reverse`
corrects by a mirror entry; balances are maintained per account and can be recomputed by
`verify`. Callers open the transaction; this module only flushes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, case, func, select, text, update
from sqlalchemy.orm import Session

from app.db import any_of, dialect_insert, in_chunks, insert_rows, reserve_ids
from app.errors import Conflict, NotFound
from app.ledger import rules, snapshots
from app.ledger.models import JournalEntry, LedgerAccount, LedgerChain, LedgerPosting
from app.ledger.rules import Draft, Line

ENTRY = cast(Table, JournalEntry.__table__)
POSTING = cast(Table, LedgerPosting.__table__)
ACCOUNT = cast(Table, LedgerAccount.__table__)
CHAIN = cast(Table, LedgerChain.__table__)
IN_LIST_CHUNK = 900  # below SQLite's default variable limit per statement
VERIFY_BATCH = 5000


class LedgerConflict(Conflict):
    code = "ledger-conflict"


@dataclass(frozen=True)
class Posted:
    entry_id: int
    key: str
    replayed: bool  # True when the key already stood for the same content


def _chunks(items: Sequence[object], size: int = IN_LIST_CHUNK) -> Iterator[list[object]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def post(session: Session, draft: Draft, *, now: datetime) -> Posted:
    """Post one balanced entry; replaying its key with the same content posts nothing."""
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
    for chunk in in_chunks(session, list(keys)):
        rows = session.execute(
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
                raise LedgerConflict(
                    f"idempotency key {draft.key!r} was already posted with other content"
                )
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


def _insert_entries(
    session: Session, fresh: Sequence[tuple[int, Draft, str]], prev_hash: str, now: datetime
) -> tuple[list[int], str]:
    """Postings first, then their entries: the database checks each entry's balance when the
    entry is inserted, and the postings' deferred foreign key at commit."""
    account_ids = ensure_accounts(
        session, [line.account for _, draft, _ in fresh for line in draft.lines]
    )
    entry_ids = reserve_ids(session, ENTRY, len(fresh))
    entry_rows = []
    posting_rows = []
    deltas: dict[int, int] = defaultdict(int)
    for entry_id, (_, draft, digest) in zip(entry_ids, fresh, strict=True):
        entry_hash = rules.chain_hash(prev_hash, draft.key, digest, draft.effective_at, now)
        entry_rows.append(
            {
                "id": entry_id,
                "kind": draft.kind,
                "idempotency_key": draft.key,
                "request_hash": digest,
                "business_ref": draft.business_ref,
                "region_code": draft.region_code,
                "insutype": draft.insutype,
                "fixmedins_code": draft.fixmedins_code,
                "period": draft.period,
                "effective_at": draft.effective_at,
                "recorded_at": now,
                "reverses_entry_id": draft.reverses_entry_id,
                "memo": draft.memo[:300],
                "prev_hash": prev_hash,
                "entry_hash": entry_hash,
            }
        )
        prev_hash = entry_hash
        for line in draft.lines:
            account_id = account_ids[line.account]
            posting_rows.append(
                {
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "side": line.side,
                    "amount_fen": line.amount_fen,
                }
            )
            deltas[account_id] += line.amount_fen if line.side == "D" else -line.amount_fen
    assert sum(deltas.values()) == 0, "posted entries net to zero"
    insert_rows(session, POSTING, posting_rows)
    insert_rows(session, ENTRY, entry_rows)
    _apply_deltas(session, {a: d for a, d in deltas.items() if d})
    return entry_ids, prev_hash


def _apply_deltas(session: Session, deltas: dict[int, int]) -> None:
    """balance_fen += delta per account, in account order (a stable lock order)."""
    if not deltas:
        return
    ordered = sorted(deltas.items())
    if session.get_bind().dialect.name == "postgresql" and len(ordered) > 20:
        # One statement with two array parameters instead of one UPDATE per account.
        session.execute(
            text(
                "UPDATE ledger_account SET balance_fen = ledger_account.balance_fen + d.delta "
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:deltas AS bigint[])) AS d(id, delta) "
                "WHERE ledger_account.id = d.id"
            ),
            {"ids": [a for a, _ in ordered], "deltas": [d for _, d in ordered]},
        )
        return
    session.execute(
        update(ACCOUNT)
        .where(ACCOUNT.c.id == bindparam("account_id"))
        .values(balance_fen=ACCOUNT.c.balance_fen + bindparam("delta")),
        [{"account_id": a, "delta": d} for a, d in ordered],
    )


def get_entry(session: Session, entry_id: int) -> JournalEntry:
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"no journal entry {entry_id}")
    return entry


def entry_lines(session: Session, entry_ids: Sequence[int]) -> dict[int, list[Line]]:
    lines: dict[int, list[Line]] = defaultdict(list)
    for chunk in _chunks(list(entry_ids)):
        rows = session.execute(
            select(
                LedgerPosting.entry_id,
                LedgerAccount.code,
                LedgerPosting.side,
                LedgerPosting.amount_fen,
            )
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .where(LedgerPosting.entry_id.in_(chunk))
            .order_by(LedgerPosting.entry_id, LedgerPosting.id)
        )
        for entry_id, code, side, amount in rows:
            lines[entry_id].append(Line(code, side, amount))
    return lines


def reverse(session: Session, entry_id: int, reason: str, *, now: datetime) -> Posted:
    """Post the mirror of an entry, once; a second reversal is a conflict."""
    entry = get_entry(session, entry_id)
    already = session.scalar(
        select(JournalEntry.id).where(JournalEntry.reverses_entry_id == entry_id)
    )
    if already is not None:
        raise LedgerConflict(f"journal entry {entry_id} was already reversed by {already}")
    draft = Draft(
        kind="reversal",
        key=f"reversal:{entry.idempotency_key}"[:160],
        region_code=entry.region_code,
        insutype=entry.insutype,
        fixmedins_code=entry.fixmedins_code,
        period=entry.period,
        lines=rules.mirror(entry_lines(session, [entry_id])[entry_id]),
        effective_at=now,
        business_ref=entry.business_ref,
        memo=reason,
        reverses_entry_id=entry_id,
    )
    return post(session, draft, now=now)


# --- balances -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountBalance:
    code: str
    name: str
    fixmedins_code: str | None
    balance_fen: int  # signed in the account's normal direction
    debit_minus_credit: int


def _account(session: Session, code: str) -> LedgerAccount:
    account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if account is None:
        raise NotFound(f"no ledger account {code!r}")
    return account


def balance(session: Session, code: str) -> int:
    """Current balance in the normal direction, O(1): the maintained row."""
    account = _account(session, code)
    return rules.normal_balance(account.name, account.balance_fen)


def balance_or_zero(session: Session, code: str) -> int:
    row = session.execute(
        select(LedgerAccount.name, LedgerAccount.balance_fen).where(LedgerAccount.code == code)
    ).first()
    return 0 if row is None else rules.normal_balance(row.name, row.balance_fen)


def _sum_query() -> Select[Any]:
    """Σ debit − credit per account over every posting (verify)."""
    amount = LedgerPosting.amount_fen
    signed_sum = func.coalesce(
        func.sum(case((LedgerPosting.side == "D", amount), else_=-amount)), 0
    )
    return select(LedgerPosting.account_id, signed_sum).group_by(LedgerPosting.account_id)


def balance_as_of(session: Session, code: str, as_of: datetime, *, basis: str = "effective") -> int:
    """Balance from the entries effective (or recorded) at or before `as_of`: the fund's
    latest balance snapshot at or before it plus the postings after its cut (snapshots.py),
    so the read is bounded whatever the history's length."""
    assert basis in ("effective", "recorded")
    try:
        name = rules.parse_account_code(code)[0]
    except rules.LedgerRuleError:
        raise NotFound(f"no ledger account {code!r}") from None
    dmc = snapshots.balance_as_of(session, code, as_of, basis)
    if dmc is None:
        raise NotFound(f"no ledger account {code!r}")
    return rules.normal_balance(name, dmc)


def balances(
    session: Session,
    *,
    region_code: str | None = None,
    insutype: str | None = None,
    fixmedins_code: str | None = None,
    as_of: datetime | None = None,
    basis: str = "effective",
) -> list[AccountBalance]:
    """Balances of accounts (sorted by code); maintained rows, or as of a time from the
    balance snapshots and the postings after them."""
    query = select(LedgerAccount).order_by(LedgerAccount.code)
    if region_code:
        query = query.where(LedgerAccount.region_code == region_code)
    if insutype:
        query = query.where(LedgerAccount.insutype == insutype)
    if fixmedins_code:
        query = query.where(LedgerAccount.fixmedins_code == fixmedins_code)
    accounts = list(session.scalars(query))
    at: dict[int, int] | None = None
    if as_of is not None:
        assert basis in ("effective", "recorded")
        at = snapshots.balances_as_of(
            session, [(a.id, f"{a.region_code}:{a.insutype}") for a in accounts], as_of, basis
        )
    result = []
    for account in accounts:
        dmc = account.balance_fen if at is None else at[account.id]
        result.append(
            AccountBalance(
                account.code,
                account.name,
                account.fixmedins_code,
                rules.normal_balance(account.name, dmc),
                dmc,
            )
        )
    return result


@dataclass(frozen=True)
class TrialBalance:
    accounts: list[AccountBalance]
    debits_fen: int
    credits_fen: int

    @property
    def balanced(self) -> bool:
        return self.debits_fen == self.credits_fen


def trial_balance(
    session: Session,
    *,
    region_code: str | None = None,
    insutype: str | None = None,
    as_of: datetime | None = None,
    basis: str = "effective",
) -> TrialBalance:
    rows = balances(session, region_code=region_code, insutype=insutype, as_of=as_of, basis=basis)
    debits = sum(row.debit_minus_credit for row in rows if row.debit_minus_credit > 0)
    credits = sum(-row.debit_minus_credit for row in rows if row.debit_minus_credit < 0)
    return TrialBalance(rows, debits, credits)


# --- listing --------------------------------------------------------------------------------


def list_entries(
    session: Session,
    *,
    region_code: str | None,
    insutype: str | None,
    fixmedins_code: str | None,
    kind: str | None,
    period: str | None,
    account_code: str | None,
    after_id: int | None,
    limit: int,
) -> list[JournalEntry]:
    query = select(JournalEntry).order_by(JournalEntry.id).limit(limit)
    filters = [
        (region_code, JournalEntry.region_code),
        (insutype, JournalEntry.insutype),
        (fixmedins_code, JournalEntry.fixmedins_code),
        (kind, JournalEntry.kind),
        (period, JournalEntry.period),
    ]
    for value, column in filters:
        if value:
            query = query.where(column == value)
    if account_code:
        query = query.where(
            JournalEntry.id.in_(
                select(LedgerPosting.entry_id)
                .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
                .where(LedgerAccount.code == account_code)
            )
        )
    if after_id is not None:
        query = query.where(JournalEntry.id > after_id)
    return list(session.scalars(query))


# --- verification ---------------------------------------------------------------------------


@dataclass
class VerifyReport:
    entries_checked: int = 0
    balance_mismatches: list[tuple[str, int, int]] = field(default_factory=list)
    chain_breaks: list[tuple[str, int, str]] = field(default_factory=list)
    trial_balance_fen: int = 0
    snapshots: snapshots.SnapshotReport = field(default_factory=snapshots.SnapshotReport)

    @property
    def ok(self) -> bool:
        return not (
            self.balance_mismatches
            or self.chain_breaks
            or self.trial_balance_fen
            or self.snapshots.problems
        )


def verify(session: Session) -> VerifyReport:
    """Recompute every balance from postings, every hash chain from the entries and every
    balance snapshot from the postings."""
    report = VerifyReport()
    computed = {int(a): int(b) for a, b in session.execute(_sum_query())}
    for account in session.scalars(select(LedgerAccount).order_by(LedgerAccount.code)):
        expected = computed.get(account.id, 0)
        if expected != account.balance_fen:
            report.balance_mismatches.append((account.code, account.balance_fen, expected))
    report.trial_balance_fen = sum(computed.values())
    heads = dict(session.execute(select(LedgerChain.fund_key, LedgerChain.last_hash)).all())
    funds = session.execute(
        select(JournalEntry.region_code, JournalEntry.insutype).distinct()
    ).all()
    for region_code, insutype in funds:
        fund_key = f"{region_code}:{insutype}"
        last = _verify_chain(session, region_code, insutype, report)
        if heads.get(fund_key, rules.GENESIS_HASH) != last:
            report.chain_breaks.append((fund_key, 0, "chain head does not match the last entry"))
    snapshots.verify(session, report.snapshots)
    return report


def _verify_chain(session: Session, region_code: str, insutype: str, report: VerifyReport) -> str:
    prev = rules.GENESIS_HASH
    after_id = 0
    fund_key = f"{region_code}:{insutype}"
    while True:
        entries = list(
            session.scalars(
                select(JournalEntry)
                .where(
                    and_(
                        JournalEntry.region_code == region_code,
                        JournalEntry.insutype == insutype,
                        JournalEntry.id > after_id,
                    )
                )
                .order_by(JournalEntry.id)
                .limit(VERIFY_BATCH)
            )
        )
        if not entries:
            return prev
        lines = entry_lines(session, [entry.id for entry in entries])
        reversed_ids = [e.reverses_entry_id for e in entries if e.reverses_entry_id]
        reversed_keys = (
            dict(
                session.execute(
                    select(JournalEntry.id, JournalEntry.idempotency_key).where(
                        JournalEntry.id.in_(reversed_ids)
                    )
                ).all()
            )
            if reversed_ids
            else {}
        )
        for entry in entries:
            report.entries_checked += 1
            after_id = entry.id
            draft_lines = tuple(lines.get(entry.id, ()))
            if entry.prev_hash != prev:
                report.chain_breaks.append((fund_key, entry.id, "previous hash differs"))
            try:
                draft = Draft(
                    kind=entry.kind,
                    key=entry.idempotency_key,
                    region_code=entry.region_code,
                    insutype=entry.insutype,
                    lines=draft_lines,
                    effective_at=entry.effective_at,
                    business_ref=entry.business_ref,
                    fixmedins_code=entry.fixmedins_code,
                    period=entry.period,
                    reverses_entry_id=entry.reverses_entry_id,
                )
            except (rules.LedgerRuleError, AssertionError) as error:
                report.chain_breaks.append((fund_key, entry.id, f"postings: {error}"))
                prev = entry.entry_hash
                continue
            digest = rules.request_hash(draft, reversed_keys.get(entry.reverses_entry_id or 0))
            if digest != entry.request_hash:
                report.chain_breaks.append((fund_key, entry.id, "content differs from its hash"))
            recomputed = rules.chain_hash(
                entry.prev_hash,
                entry.idempotency_key,
                entry.request_hash,
                entry.effective_at,
                entry.recorded_at,
            )
            if recomputed != entry.entry_hash:
                report.chain_breaks.append((fund_key, entry.id, "entry hash differs"))
            prev = entry.entry_hash
