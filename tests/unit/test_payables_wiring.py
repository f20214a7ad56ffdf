"""Every payable document kind is wired once (app/wiring.py): its payment results reach its
flow and the submission sends it."""

from __future__ import annotations

from app.bank import service as bank
from app.wiring import PAYABLES, wire


def test_each_kind_is_registered_under_its_own_name() -> None:
    wire()
    names = [flow.kind.name for flow in PAYABLES]
    assert names == ["statement", "clearing"]
    for flow in PAYABLES:
        handler = bank._PAYMENT_RESULT_HANDLERS[flow.kind.name]
        assert handler == flow.on_payment_result
