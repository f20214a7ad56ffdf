"""The payable documents' payment results are wired explicitly (app/wiring.py): no hidden
imports between domains, and a kind nobody registered is an error, never a silent skip."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.bank import service as bank
from app.bank.models import PaymentInstruction

ROOT = Path(__file__).resolve().parents[2]


def test_no_hidden_imports_in_app_or_jobs() -> None:
    found = []
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("jobs/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} __import__")
            if isinstance(node, ast.ExceptHandler) and getattr(node.type, "id", "") in (
                "ImportError",
                "ModuleNotFoundError",
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} except ImportError")
    assert not found, found


def test_every_payable_kind_is_wired() -> None:
    registered = bank._PAYMENT_RESULT_HANDLERS
    assert {"statement", "clearing"} <= set(registered)


def test_an_unwired_kind_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bank, "_PAYMENT_RESULT_HANDLERS", {})
    instruction = PaymentInstruction(instruction_id="M1", source_kind="statement", source_id=1)
    with pytest.raises(RuntimeError, match="wire"):
        bank._notify_source(None, instruction, datetime(2026, 4, 20, tzinfo=UTC))  # type: ignore[arg-type]
