"""Balance snapshots (issue 20.2): an as-of balance = a snapshot + the postings after its cut,
equal to the full sum at any time, on both bases, whatever order entries arrive in; stale
snapshots are dropped by the database, `verify` recomputes them, `rebuild` redoes them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.ledger import search, snapshots
from app.ledger import service as ledger
from app.ledger.models import LedgerSnapshot, LedgerSnapshotBalance
from app.ledger.rules import LedgerRuleError, normal_balance
from tests.support.ledger import NOW, acct, transfer_draft

ACCOUNTS = [
    acct("bank"),
    acct("appropriation"),
    acct("in_transit"),
    acct("payable", "H001"),
    acct("expense", "H001"),
    acct("payable", "H002"),
]
OTHER_FUND = [acct("bank", insutype="390"), acct("appropriation", insutype="390")]
FUND = "640100:310"


def _at(minute: int) -> datetime:
    return NOW + timedelta(minutes=minute)


def _post(
    factory: sessionmaker[Session],
    key: str,
    debit: str,
    credit: str,
    amount: int,
    effective: datetime,
    recorded: datetime,
) -> None:
    insutype = debit.split(":")[2]
    with transaction(factory) as session:
        draft = transfer_draft(key, debit, credit, amount, when=effective, insutype=insutype)
        ledger.post(session, draft, now=recorded)


def _expected(
    posted: list[tuple[str, str, int, datetime, datetime]], code: str, at: datetime, basis: str
) -> int:
    """debit − credit of `code` from the entries at or before `at`: the plain sum."""
    total = 0
    for debit, credit, amount, effective, recorded in posted:
        when = effective if basis == "effective" else recorded
        if when <= at:
            total += amount if debit == code else -amount if credit == code else 0
    return total


ENTRY = st.tuples(
    st.sampled_from(range(len(ACCOUNTS) + 1)),  # the last one: an entry of the other fund
    st.integers(1, 10**9),
    st.integers(0, 60),  # effective minute: entries arrive in any order, ties included
    st.integers(0, 60),  # recorded minute
    st.booleans(),  # take snapshots after this entry
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    entries=st.lists(ENTRY, min_size=1, max_size=30),
    every=st.integers(1, 4),
    probes=st.lists(st.integers(-1, 62), min_size=1, max_size=4),
)
def test_as_of_balance_is_the_full_sum_at_any_time(
    connection: Connection,
    session_factory: sessionmaker[Session],
    entries: list[tuple[int, int, int, int, bool]],
    every: int,
    probes: list[int],
) -> None:
    example = connection.begin_nested()
    try:
        posted: list[tuple[str, str, int, datetime, datetime]] = []
        for index, (pick, amount, effective, recorded, snap) in enumerate(entries):
            if pick == len(ACCOUNTS):
                debit, credit = OTHER_FUND
            else:
                debit, credit = ACCOUNTS[pick], ACCOUNTS[(pick + 1 + index) % len(ACCOUNTS)]
                if debit == credit:
                    credit = ACCOUNTS[(pick + 1) % len(ACCOUNTS)]
            _post(
                session_factory, f"e{index}", debit, credit, amount, _at(effective), _at(recorded)
            )
            posted.append((debit, credit, amount, _at(effective), _at(recorded)))
            if snap:
                snapshots.take(session_factory, every=every, now=NOW)
        snapshots.take(session_factory, every=every, now=NOW)
        moments = [_at(m) for m in probes] + [_at(m) + timedelta(microseconds=1) for m in probes]
        with transaction(session_factory) as session:
            for basis in snapshots.BASES:
                for at in moments:
                    rows = {
                        row.code: row.debit_minus_credit
                        for row in ledger.balances(session, as_of=at, basis=basis)
                    }
                    for code in [*ACCOUNTS, *OTHER_FUND]:
                        expected = _expected(posted, code, at, basis)
                        if code in rows:
                            assert rows[code] == expected, (code, at, basis)
                            one = ledger.balance_as_of(session, code, at, basis=basis)
                            assert one == normal_balance(code.split(":")[0], expected)
                        else:
                            assert expected == 0
                    if basis == "effective":  # the auditor's paged balances read the same
                        page = search.balances_page(session, as_of=at, limit=search.ACCOUNTS_MAX)
                        assert {row.code: row.debit_minus_credit for row in page} == rows
            report = ledger.verify(session)
            assert report.ok, report
    finally:
        example.rollback()


def _snapshot_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(LedgerSnapshot)).scalar_one())


def test_snapshots_every_n_entries_bound_the_tail(
    session_factory: sessionmaker[Session],
) -> None:
    for minute in range(25):
        _post(
            session_factory, f"k{minute}", ACCOUNTS[0], ACCOUNTS[1], 100, _at(minute), _at(minute)
        )
    written = snapshots.take(session_factory, every=10, now=NOW)
    assert written == {FUND: 4}  # two segments of 10 entries on each basis; 5 left over
    with transaction(session_factory) as session:
        (fund,) = snapshots.entry_counts(session)
        assert (fund.fund_key, fund.entries, fund.since_snapshot) == (FUND, 25, 5)
        cut = snapshots.latest(session, FUND, "effective")
        assert cut is not None and (cut.cut, cut.entries) == (_at(19), 20)
        # as of minute 14: the first snapshot (minute 9) and five postings after it
        assert ledger.balance_as_of(session, ACCOUNTS[0], _at(14)) == 1500
        assert ledger.verify(session).ok
    assert snapshots.take(session_factory, every=10, now=NOW) == {}  # nothing new is due


def test_a_backdated_entry_drops_the_stale_snapshots(
    session_factory: sessionmaker[Session],
) -> None:
    for minute in range(30):
        _post(
            session_factory, f"k{minute}", ACCOUNTS[0], ACCOUNTS[1], 100, _at(minute), _at(minute)
        )
    snapshots.take(session_factory, every=10, now=NOW)
    with transaction(session_factory) as session:
        assert _snapshot_count(session) == 6  # cuts at minutes 9, 19, 29 on both bases
    # effective at minute 15, recorded at minute 40: the effective cuts 19 and 29 are stale
    _post(session_factory, "late", ACCOUNTS[0], ACCOUNTS[1], 7, _at(15), _at(40))
    with transaction(session_factory) as session:
        cuts = session.execute(
            select(LedgerSnapshot.basis, LedgerSnapshot.cut).order_by(LedgerSnapshot.id)
        ).all()
        assert sorted(cuts) == sorted(
            [("effective", _at(9))] + [("recorded", _at(m)) for m in (9, 19, 29)]
        )
        assert ledger.balance_as_of(session, ACCOUNTS[0], _at(20)) == 2107
        assert ledger.balance_as_of(session, ACCOUNTS[0], _at(20), basis="recorded") == 2100
        assert ledger.verify(session).ok
    snapshots.take(session_factory, every=10, now=NOW)  # cut again: 10, 11, ... 15, 15, ... 18
    with transaction(session_factory) as session:
        effective = session.scalars(
            select(LedgerSnapshot.cut)
            .where(LedgerSnapshot.basis == "effective")
            .order_by(LedgerSnapshot.cut)
        ).all()
        assert effective == [_at(9), _at(18), _at(28)]
        assert ledger.balance_as_of(session, ACCOUNTS[0], _at(20)) == 2107
        assert ledger.verify(session).ok


def test_verify_finds_a_wrong_snapshot_and_rebuild_mends_it(
    session_factory: sessionmaker[Session],
) -> None:
    for minute in range(12):
        _post(
            session_factory, f"k{minute}", ACCOUNTS[0], ACCOUNTS[1], 100, _at(minute), _at(minute)
        )
    snapshots.take(session_factory, every=5, now=NOW)
    with transaction(session_factory) as session:
        session.execute(
            update(LedgerSnapshotBalance).values(
                debit_minus_credit=LedgerSnapshotBalance.debit_minus_credit + 1
            )
        )
    with transaction(session_factory) as session:
        report = ledger.verify(session)
        assert not report.ok and not report.balance_mismatches and not report.chain_breaks
        assert report.snapshots.snapshots_checked == 4
        problems = report.snapshots.problems
        assert len(problems) == 8  # both accounts at every snapshot
        assert "the postings say" in problems[0][3]
    assert snapshots.rebuild(session_factory, every=5, now=NOW) == {FUND: 4}
    with transaction(session_factory) as session:
        assert ledger.verify(session).ok
        assert ledger.balance_as_of(session, ACCOUNTS[0], _at(7)) == 800


def test_an_entry_moves_money_inside_its_fund_ledger(session: Session) -> None:
    draft = transfer_draft("x", acct("bank"), acct("appropriation", insutype="390"), 5)
    with pytest.raises(LedgerRuleError, match="not of the entry's fund ledger"):
        ledger.post(session, draft, now=NOW)
