"""Every payable document kind is wired once (app/wiring.py): its payment results reach its
flow and the submission sends it."""

from __future__ import annotations

from app.bank import service as bank
from app.wiring import ASSISTANCE_PAYABLES, PAYABLES, wire


def test_each_kind_is_registered_under_its_own_name() -> None:
    wire()
    names = [flow.kind.name for flow in PAYABLES]
    assert names == ["statement", "clearing"]
    for flow in PAYABLES:
        handler = bank._PAYMENT_RESULT_HANDLERS[flow.kind.name]
        assert handler == flow.on_payment_result


def test_the_assistance_kinds_are_registered_apart_from_the_basic_submission() -> None:
    """The 610 fund's documents reach their flow's result handler but are never sent by the
    basic funds' submission (it iterates PAYABLES only)."""
    wire()
    # statements before persons: A10's order for documents approved in the same minute
    assert [flow.kind.name for flow in ASSISTANCE_PAYABLES] == [
        "assistance_statement",
        "person_payment",
    ]
    for flow in ASSISTANCE_PAYABLES:
        assert flow not in PAYABLES
        assert bank._PAYMENT_RESULT_HANDLERS[flow.kind.name] == flow.on_payment_result
