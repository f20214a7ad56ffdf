"""The payable document's state machine (app/payables/machine.py): the table, the status after
an approval and the one mapping of a bank payment result."""

from __future__ import annotations

import pytest

from app.payables.machine import (
    DOCUMENT,
    DONE,
    FINAL,
    HOLDS_OFFSET,
    DocumentStatus,
    status_after_approval,
    status_after_payment,
)
from app.states import IllegalTransition

S = DocumentStatus


def test_values_are_what_the_database_and_the_api_carry() -> None:
    assert [status.value for status in S] == [
        "COMPUTED",
        "DISPUTED",
        "CONFIRMED",
        "APPROVED",
        "PAID",
        "FAILED",
        "RETURNED",
        "SETTLED",
        "RECEIVABLE",
    ]


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("COMPUTED", "CONFIRMED"),
        ("COMPUTED", "DISPUTED"),
        ("DISPUTED", "COMPUTED"),
        ("CONFIRMED", "APPROVED"),
        ("CONFIRMED", "SETTLED"),
        ("CONFIRMED", "RECEIVABLE"),
        ("APPROVED", "PAID"),
        ("APPROVED", "FAILED"),
        ("FAILED", "APPROVED"),
        ("PAID", "RETURNED"),
        ("RETURNED", "APPROVED"),  # only kinds that resend their returns (Kind.resend_returned)
    ],
)
def test_the_flow_moves(current: str, new: str) -> None:
    DOCUMENT.check(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("COMPUTED", "APPROVED"),  # never approved unconfirmed
        ("DISPUTED", "CONFIRMED"),  # a disputed document is recomputed first
        ("CONFIRMED", "PAID"),  # paid only through the bank after approval
        ("APPROVED", "RETURNED"),  # a return follows a success
        ("FAILED", "PAID"),  # a failed instruction never succeeds: resent after re-approval
        ("PAID", "APPROVED"),
        ("SETTLED", "APPROVED"),
        ("RECEIVABLE", "APPROVED"),
        ("RETURNED", "PAID"),
    ],
)
def test_anything_else_is_illegal(current: str, new: str) -> None:
    with pytest.raises(IllegalTransition, match=f"from {current} to {new}"):
        DOCUMENT.check(current, new)


def test_final_statuses_have_no_way_out() -> None:
    assert DOCUMENT.final() == {S.SETTLED, S.RECEIVABLE}
    assert set(DONE) < set(FINAL) and S.RETURNED in FINAL
    assert not set(HOLDS_OFFSET) & set(FINAL)


@pytest.mark.parametrize(
    ("amount_fen", "status"),
    [(1, "APPROVED"), (0, "SETTLED"), (-1, "RECEIVABLE"), (10**13, "APPROVED")],
)
def test_the_status_after_approval_follows_the_sign(amount_fen: int, status: str) -> None:
    assert status_after_approval(amount_fen) == status


@pytest.mark.parametrize(
    ("current", "bank_status", "new"),
    [
        ("APPROVED", "SUCCESS", "PAID"),
        ("APPROVED", "FAILED", "FAILED"),
        ("PAID", "RETURNED", "RETURNED"),
        ("APPROVED", "ACCEPTED", "APPROVED"),  # not a result yet
        ("APPROVED", "UNKNOWN", "APPROVED"),
        ("FAILED", "FAILED", "FAILED"),  # the same result again changes nothing
        ("PAID", "SUCCESS", "PAID"),
    ],
)
def test_a_bank_result_maps_to_the_next_status(current: str, bank_status: str, new: str) -> None:
    assert status_after_payment(current, bank_status) == new


def test_a_result_the_table_does_not_allow_raises() -> None:
    with pytest.raises(IllegalTransition):
        status_after_payment("CONFIRMED", "SUCCESS")  # never sent: cannot be paid
    with pytest.raises(IllegalTransition):
        status_after_payment("APPROVED", "RETURNED")


def test_an_unknown_document_status_is_an_error() -> None:
    with pytest.raises(ValueError):
        status_after_payment("PENDING", "SUCCESS")
