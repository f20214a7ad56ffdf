"""Matching a bank statement's entries and the balance reconciliation (银行对账, pure)."""

from __future__ import annotations

import dataclasses

from app.bankrecon import rules
from app.bankrecon.rules import Candidates, Entry
from app.threeflow import rules as threeflow

KNOWN = Candidates(
    instructions={
        "D1": (800_000, "SUCCESS"),
        "D2": (300_000, "RETURNED"),
        "D3": (100_000, "FAILED"),
        "D4": (50_000, "ACCEPTED"),
    },
    appropriations={"APP-1": 10_000_000},
    repayments={"HK-1": (7, 20_000)},
    advances={"ADV-1": (3, 100_000)},
)


def _outcomes(entries: list[Entry], taken: list[tuple[str, str]] | None = None) -> list[tuple]:
    return [
        (m.kind, m.ledger_ref, m.outcome, m.expected_fen)
        for m in rules.match_entries(entries, KNOWN, taken or [])
    ]


def test_debits_match_paid_instructions_and_advances() -> None:
    assert _outcomes(
        [
            Entry(1, "D", 800_000, "D1"),
            Entry(2, "D", 300_000, "D2"),
            Entry(3, "D", 100_000, "ADV-1"),
        ]
    ) == [
        ("instruction", "instruction:D1", "matched", 800_000),
        ("instruction", "instruction:D2", "matched", 300_000),
        ("procurement_advance", "procurement_advance:3", "matched", 100_000),
    ]


def test_credits_match_returns_appropriations_and_repayments() -> None:
    assert _outcomes(
        [
            Entry(1, "C", 300_000, "D2"),
            Entry(2, "C", 10_000_000, "APP-1"),
            Entry(3, "C", 20_000, "HK-1"),
        ]
    ) == [
        ("return", "instruction:D2", "matched", 300_000),
        ("appropriation", "appropriation:APP-1", "matched", 10_000_000),
        ("repayment", "repayment:7", "matched", 20_000),
    ]


def test_what_matches_nothing_is_unmatched() -> None:
    # a failed or unanswered instruction was not paid; a success is not a credit
    entries = [
        Entry(1, "D", 100_000, "D3"),
        Entry(2, "D", 50_000, "D4"),
        Entry(3, "C", 800_000, "D1"),
        Entry(4, "D", 1, "NOBODY"),
    ]
    assert [o[2] for o in _outcomes(entries)] == ["unmatched"] * 4


def test_another_amount_and_a_second_entry_are_differences() -> None:
    assert _outcomes([Entry(1, "D", 800_001, "D1"), Entry(2, "D", 800_000, "D1")]) == [
        ("instruction", "instruction:D1", "amount_difference", 800_000),
        ("instruction", "instruction:D1", "duplicate", 800_000),
    ]
    # already on another current statement
    assert _outcomes([Entry(1, "D", 800_000, "D1")], [("D", "instruction:D1")])[0][2] == (
        "duplicate"
    )


def test_a_statement_adds_up() -> None:
    entries = [Entry(1, "C", 1_000, "A"), Entry(2, "D", 300, "B")]
    assert rules.adds_up(5_000, 5_700, entries)
    assert not rules.adds_up(5_000, 5_701, entries)


def test_the_balance_reconciliation() -> None:
    # the bank paid 8,000.00 the ledger books tomorrow; the ledger holds an appropriation of
    # 100.00 the bank books tomorrow: both explain themselves
    table = rules.BalanceReconciliation(
        bank_closing_fen=1_000_000 - 800_000,
        bank_only_fen=-800_000,
        ledger_only_fen=10_000,
        ledger_balance_fen=1_000_000 + 10_000,
    )
    assert table.adjusted_bank_fen == 1_010_000
    assert table.unexplained_fen == 0
    off = rules.BalanceReconciliation(200_000, -800_000, 10_000, 1_010_001)
    assert off.unexplained_fen == -1


def test_payable_and_the_hospital_tie_out_from_documents() -> None:
    # SPEC §7, H001 in March: lines of 13,333.33 (S1, S2), 0.01 (S3) and 20,000.00 (S4) of
    # fund; S2 (3,333.33) revoked after batching and reversed; 8,000.00 + 0.01 + 12,000.00
    # sent and paid. Before the statement the fund owes 10,000.00.
    before = threeflow.Documents(
        lines_fund=1_333_333 + 1 + 2_000_000,
        reversed_revocations=333_333,
        sent=2_000_001,
        received=2_000_001,
    )
    assert threeflow.payable_of(before) == 1_000_000
    owed = threeflow.owed_of(before, payable_fen=1_000_000, receivable_fen=0)
    assert owed == threeflow.received_net(before) == 2_000_001
    # the statement approved (audit 500.00, deposit 1,500.00, procurement 1,000.00, net
    # 7,000.00) and paid: nothing payable; received + advance = ratio amount − audit
    after = threeflow.Documents(
        lines_fund=1_333_333 + 1 + 2_000_000,
        reversed_revocations=333_333,
        sent=2_000_001 + 700_000,
        received=2_000_001 + 700_000,
        statements_taken=50_000 + 150_000 + 100_000,
        statements_fund=3_000_001,
        statements_owed=2_850_001 - 50_000,
        statements_procurement=100_000,
    )
    assert threeflow.payable_of(after) == 0
    assert threeflow.owed_of(after, payable_fen=0, receivable_fen=0) == 2_800_001
    assert threeflow.received_net(after) == 2_800_001
    # a payment failed: owed again, payable again, received less
    failed = dataclasses.replace(after, sent_back=700_000, received=2_000_001)
    assert threeflow.payable_of(failed) == 700_000
    assert threeflow.owed_of(failed, payable_fen=700_000, receivable_fen=0) == 2_100_001
