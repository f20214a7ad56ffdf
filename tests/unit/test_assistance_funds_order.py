"""The assistance fund's funds check, pure (SPEC-ASSISTANCE A8, A10 "Funds check order"), and
the prepayment's journal entry (app/ledger/entries.py `prepayment_received`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger import entries
from app.ledger.rules import LedgerRuleError, Line
from app.treasury.rules import Candidate, approval_order, select_covered

NINE = datetime(2027, 2, 9, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
STATEMENTS, PERSONS = 0, 1


def doc(
    doc_id: int, fen: int, code: str = "H001", *, rank: int = STATEMENTS, at: datetime = NINE
) -> Candidate:
    return Candidate((rank, doc_id), at, rank, code, fen)


def test_order_is_approval_minute_then_statements_then_hospital_code() -> None:
    person = doc(1, 100, "", rank=PERSONS, at=NINE + timedelta(seconds=1))
    h2 = doc(2, 100, "H002", at=NINE + timedelta(seconds=30))
    h1 = doc(3, 100, "H001", at=NINE + timedelta(seconds=59))
    later = doc(4, 100, "H000", at=NINE + timedelta(minutes=1))
    assert sorted([later, person, h2, h1], key=approval_order) == [h1, h2, person, later]


def test_each_document_goes_only_when_what_is_left_covers_it_whole() -> None:
    a, b, c = doc(1, 600, "H001"), doc(2, 500, "H002"), doc(3, 300, "H003")
    chosen = select_covered([c, b, a], 1_000)
    assert chosen.sent == (a, c)  # H002 does not fit after H001; H003 still does
    assert chosen.waiting == (b,)
    assert (chosen.sent_fen, chosen.waiting_fen) == (900, 500)
    assert chosen.shortfall_fen == 400  # 500 waiting, 100 left
    assert select_covered([a, b, c], 1_400).shortfall_fen == 0
    nothing = select_covered([a], -200)  # an account already below zero: needed too
    assert nothing.sent == () and nothing.shortfall_fen == 800
    assert select_covered([], 0).shortfall_fen == 0


@given(
    st.lists(st.integers(min_value=1, max_value=10_000), max_size=12),
    st.integers(min_value=-5_000, max_value=50_000),
)
def test_never_sends_more_than_the_account_holds(amounts: list[int], available: int) -> None:
    docs = [doc(i, fen, f"H{i:03d}") for i, fen in enumerate(amounts)]
    chosen = select_covered(docs, available)
    assert chosen.sent_fen <= max(0, available)
    assert len(chosen.sent) + len(chosen.waiting) == len(docs)
    left = available - chosen.sent_fen
    assert all(w.amount_fen > left for w in chosen.waiting)  # none that waits would fit
    assert chosen.shortfall_fen == (max(0, sum(amounts) - available) if chosen.waiting else 0)


def test_prepayment_received_entry() -> None:
    at = datetime(2027, 1, 15, 2, tzinfo=UTC)
    draft = entries.prepayment_received(
        region_code="640100",
        year=2027,
        prepayment_id=7,
        transfer_fen=310_313,
        effective_at=at,
    )
    assert draft is not None
    assert (draft.kind, draft.key, draft.business_ref) == (
        "prepayment",
        "prepayment:640100:610:2027",
        "prepayment:7",
    )
    assert draft.lines == (
        Line("bank:640100:610", "D", 310_313),
        Line("appropriation:640100:610", "C", 310_313),
    )
    zero = entries.prepayment_received(
        region_code="640100",
        year=2027,
        prepayment_id=7,
        transfer_fen=0,
        effective_at=at,
    )
    assert zero is None
    with pytest.raises(LedgerRuleError):
        entries.prepayment_received(
            region_code="640100",
            year=2027,
            prepayment_id=7,
            transfer_fen=-1,
            effective_at=at,
        )
