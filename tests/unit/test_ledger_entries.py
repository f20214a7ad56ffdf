"""The journal-entry builders of SPEC §6 (app/ledger/entries.py): pure, no database.

Each builder's draft is compared with the draft its posting site built by hand before the
builders existed (written out field by field below): the keys are stored in existing
databases, so a changed key would post a payment's entry twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger import assistance_entries, entries
from app.ledger.rules import Draft, LedgerRuleError, Line, account_code

REGION, INSUTYPE, CODE = "640100", "310", "H001"
NOW = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


def acct(name: str, institution: str | None = None) -> str:
    return account_code(name, REGION, INSUTYPE, institution)


def d(name: str, amount_fen: int, institution: str | None = CODE) -> Line:
    return Line(acct(name, institution), "D", amount_fen)


def c(name: str, amount_fen: int, institution: str | None = CODE) -> Line:
    return Line(acct(name, institution), "C", amount_fen)


INSTRUCTION = {
    "instruction_id": "D20260305640100310H001",
    "region_code": REGION,
    "insutype": INSUTYPE,
    "fixmedins_code": CODE,
    "period": "2026-03",
    "amount_fen": 12345,
    "effective_at": NOW,
}


def instruction_draft(event: str, debit: Line, credit: Line) -> Draft:
    return Draft(
        kind=f"instruction_{event}",
        key=f"instruction:D20260305640100310H001:{event}",
        region_code=REGION,
        insutype=INSUTYPE,
        fixmedins_code=CODE,
        period="2026-03",
        lines=(debit, credit),
        effective_at=NOW,
        business_ref="instruction:D20260305640100310H001",
    )


# builder, sample arguments, the draft the site built for them, the arguments that make up
# the key (each gets another value and must change it), the others (must not change it)
Case = tuple[Callable[..., Draft | None], dict[str, Any], Draft, dict[str, Any], dict[str, Any]]
CASES: dict[str, Case] = {
    "daily_accrual": (
        entries.daily_accrual,
        {
            "region_code": REGION,
            "insutype": INSUTYPE,
            "business_date": date(2026, 3, 5),
            "fixmedins_code": CODE,
            "line_id": 7,
            "fund_total_fen": 2500,
            "effective_at": NOW,
        },
        Draft(
            kind="daily_accrual",
            key="daily:640100:310:2026-03-05:H001:accrual",
            region_code=REGION,
            insutype=INSUTYPE,
            fixmedins_code=CODE,
            lines=(d("expense", 2500), c("payable", 2500)),
            effective_at=NOW,
            business_ref="daily_line:7",
        ),
        {
            "region_code": "640200",
            "insutype": "390",
            "business_date": date(2026, 3, 6),
            "fixmedins_code": "H002",
        },
        {"line_id": 8, "fund_total_fen": 2600, "effective_at": LATER},
    ),
    "daily_revocation": (
        entries.daily_revocation,
        {
            "region_code": REGION,
            "insutype": INSUTYPE,
            "business_date": date(2026, 3, 5),
            "fixmedins_code": CODE,
            "batch_id": 3,
            "revoked_fen": 900,
            "effective_at": NOW,
        },
        Draft(
            kind="daily_revocation",
            key="daily:640100:310:2026-03-05:H001:revoked",
            region_code=REGION,
            insutype=INSUTYPE,
            fixmedins_code=CODE,
            lines=(d("payable", 900), c("expense", 900)),
            effective_at=NOW,
            business_ref="daily_batch:3:revocations",
        ),
        {
            "region_code": "640200",
            "insutype": "390",
            "business_date": date(2026, 3, 6),
            "fixmedins_code": "H002",
        },
        {"batch_id": 4, "revoked_fen": 901, "effective_at": LATER},
    ),
    "instruction_sent": (
        entries.instruction_sent,
        INSTRUCTION,
        instruction_draft("sent", d("payable", 12345), c("in_transit", 12345, None)),
        {"instruction_id": "D20260306640100310H001"},
        {"period": "2026-02", "amount_fen": 1, "effective_at": LATER},
    ),
    "instruction_success": (
        entries.instruction_success,
        INSTRUCTION,
        instruction_draft("success", d("in_transit", 12345, None), c("bank", 12345, None)),
        {"instruction_id": "D20260306640100310H001"},
        {"period": None, "amount_fen": 1, "effective_at": LATER},
    ),
    "instruction_failed": (
        entries.instruction_failed,
        INSTRUCTION,
        instruction_draft("failed", d("in_transit", 12345, None), c("payable", 12345)),
        {"instruction_id": "D20260306640100310H001"},
        {"period": None, "amount_fen": 1, "effective_at": LATER},
    ),
    "instruction_returned": (
        entries.instruction_returned,
        INSTRUCTION,
        instruction_draft("returned", d("bank", 12345, None), c("payable", 12345)),
        {"instruction_id": "D20260306640100310H001"},
        {"period": None, "amount_fen": 1, "effective_at": LATER},
    ),
    "statement_approval": (
        entries.statement_approval,
        {
            "statement_id": 11,
            "version": 2,
            "region_code": REGION,
            "insutype": INSUTYPE,
            "fixmedins_code": CODE,
            "period": "2026-03",
            "audit_fen": 300,
            "deposit_fen": 200,
            "procurement_fen": 100,
            "offset_fen": 50,
            "net_fen": 1000,
            "effective_at": NOW,
        },
        Draft(
            kind="statement_approval",
            key="statement:11:v2:approval",
            region_code=REGION,
            insutype=INSUTYPE,
            fixmedins_code=CODE,
            period="2026-03",
            lines=(
                d("payable", 300),
                c("expense", 300),
                d("payable", 200),
                c("deposit_held", 200),
                d("payable", 100),
                c("procurement_advance", 100),
                d("payable", 50),
                c("receivable", 50),
            ),
            effective_at=NOW,
            business_ref="statement:11",
        ),
        {"statement_id": 12, "version": 3},
        {"period": "2026-04", "audit_fen": 301, "net_fen": 5, "effective_at": LATER},
    ),
    "clearing_approval": (
        entries.clearing_approval,
        {
            "clearing_id": 5,
            "version": 1,
            "year": 2025,
            "region_code": REGION,
            "insutype": INSUTYPE,
            "fixmedins_code": CODE,
            "clearing_amount_fen": 10000,
            "approved_fund_fen": 9000,
            "deposit_held_fen": 500,
            "forfeited_fen": 120,
            "offset_fen": 70,
            "actual_fen": 1310,
            "effective_at": NOW,
        },
        Draft(
            kind="clearing_approval",
            key="clearing:5:v1:approval",
            region_code=REGION,
            insutype=INSUTYPE,
            fixmedins_code=CODE,
            period="2025-12",
            lines=(
                d("expense", 1000),
                c("payable", 1000),
                d("deposit_held", 380),
                c("payable", 380),
                d("deposit_held", 120),
                c("expense", 120),
                d("payable", 70),
                c("receivable", 70),
            ),
            effective_at=NOW,
            business_ref="clearing:5",
        ),
        {"clearing_id": 6, "version": 2},
        {"year": 2024, "forfeited_fen": 0, "actual_fen": 9, "effective_at": LATER},
    ),
    "procurement_advance": (
        entries.procurement_advance,
        {
            "reference": "ADV-1",
            "advance_id": 9,
            "region_code": REGION,
            "insutype": INSUTYPE,
            "fixmedins_code": CODE,
            "period": "2026-03",
            "amount_fen": 4000,
            "effective_at": NOW,
        },
        Draft(
            kind="procurement_advance",
            key="procurement_advance:ADV-1",
            region_code=REGION,
            insutype=INSUTYPE,
            fixmedins_code=CODE,
            period="2026-03",
            lines=(d("procurement_advance", 4000), c("bank", 4000, None)),
            effective_at=NOW,
            business_ref="procurement_advance:9",
        ),
        {"reference": "ADV-2"},
        {"advance_id": 10, "fixmedins_code": "H002", "amount_fen": 1, "effective_at": LATER},
    ),
    "repayment": (
        entries.repayment,
        {
            "receipt_no": "R-77",
            "repayment_id": 4,
            "region_code": REGION,
            "insutype": INSUTYPE,
            "fixmedins_code": CODE,
            "amount_fen": 800,
            "effective_at": NOW,
        },
        Draft(
            kind="repayment",
            key="repayment:640100:310:R-77",
            region_code=REGION,
            insutype=INSUTYPE,
            fixmedins_code=CODE,
            lines=(d("bank", 800, None), c("receivable", 800)),
            effective_at=NOW,
            business_ref="repayment:4",
        ),
        {"receipt_no": "R-78", "region_code": "640200", "insutype": "390"},
        {"repayment_id": 5, "fixmedins_code": "H002", "amount_fen": 1, "effective_at": LATER},
    ),
    "appropriation": (
        entries.appropriation,
        {
            "reference": "AP-1",
            "region_code": REGION,
            "insutype": INSUTYPE,
            "amount_fen": 1_000_000,
            "effective_at": NOW,
        },
        Draft(
            kind="appropriation",
            key="appropriation:640100:310:AP-1",
            region_code=REGION,
            insutype=INSUTYPE,
            lines=(d("bank", 1_000_000, None), c("appropriation", 1_000_000, None)),
            effective_at=NOW,
            business_ref="appropriation:AP-1",
        ),
        {"reference": "AP-2", "region_code": "640200", "insutype": "390"},
        {"amount_fen": 1, "effective_at": LATER},
    ),
    "assistance_statement_approval": (
        assistance_entries.assistance_statement_approval,
        {
            "statement_id": 7,
            "version": 1,
            "region_code": REGION,
            "fixmedins_code": CODE,
            "period": "2026-03",
            "gross_fen": 800_000,
            "offset_fen": 30_000,
            "amount_fen": 770_000,
            "effective_at": NOW,
        },
        Draft(
            kind="assistance_statement_approval",
            key="assistance_statement:7:v1:approval",
            region_code=REGION,
            insutype="610",
            fixmedins_code=CODE,
            period="2026-03",
            lines=(
                Line(account_code("expense", REGION, "610"), "D", 800_000),
                Line(account_code("payable", REGION, "610", CODE), "C", 800_000),
                Line(account_code("payable", REGION, "610", CODE), "D", 30_000),
                Line(account_code("receivable", REGION, "610", CODE), "C", 30_000),
            ),
            effective_at=NOW,
            business_ref="assistance_statement:7",
        ),
        {"statement_id": 8, "version": 2},
        {"period": "2026-04", "gross_fen": 5, "amount_fen": 5, "effective_at": LATER},
    ),
    # SPEC-ASSISTANCE A8 (issue 21.6); the site is new: tests/unit/test_assistance_funds_order.py
    "prepayment_received": (
        entries.prepayment_received,
        {
            "region_code": REGION,
            "year": 2027,
            "prepayment_id": 7,
            "transfer_fen": 310_313,
            "effective_at": NOW,
        },
        Draft(
            kind="prepayment",
            key="prepayment:640100:610:2027",
            region_code=REGION,
            insutype="610",
            lines=(
                Line("bank:640100:610", "D", 310_313),
                Line("appropriation:640100:610", "C", 310_313),
            ),
            effective_at=NOW,
            business_ref="prepayment:7",
        ),
        {"region_code": "640200", "year": 2028},
        {"transfer_fen": 1, "effective_at": LATER, "prepayment_id": 8},
    ),
}


def build(name: str, **changes: Any) -> Draft:
    builder, arguments = CASES[name][0], CASES[name][1]
    draft = builder(**{**arguments, **changes})
    assert draft is not None
    return draft


def sides(draft: Draft) -> tuple[int, int]:
    debit = sum(line.amount_fen for line in draft.lines if line.side == "D")
    credit = sum(line.amount_fen for line in draft.lines if line.side == "C")
    return debit, credit


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_builder_makes_the_draft_its_site_made(name: str) -> None:
    draft = build(name)
    assert draft == CASES[name][2]
    debit, credit = sides(draft)
    assert debit == credit > 0


@pytest.mark.parametrize(
    ("name", "part"), [(name, part) for name, case in sorted(CASES.items()) for part in case[3]]
)
def test_each_part_of_the_business_key_changes_the_key(name: str, part: str) -> None:
    changed = build(name, **{part: CASES[name][3][part]})
    assert changed.key != build(name).key


@pytest.mark.parametrize(
    ("name", "part"), [(name, part) for name, case in sorted(CASES.items()) for part in case[4]]
)
def test_what_is_not_the_business_key_leaves_the_key(name: str, part: str) -> None:
    """A replay with other content meets the first entry's key (and the ledger's conflict)."""
    changed = build(name, **{part: CASES[name][4][part]})
    assert changed.key == build(name).key
    assert changed.kind == build(name).kind


def test_every_builder_is_tested_here() -> None:
    public = {
        name
        for name, value in vars(entries).items()
        if callable(value)
        and getattr(value, "__module__", "") == entries.__name__
        and not name.startswith("_")
        and name[0].islower()
    }
    assert public - set(CASES) == {"reversal"}


# --- amounts: zero, negative ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["daily_accrual", "daily_revocation"])
def test_a_daily_entry_of_zero_posts_nothing(name: str) -> None:
    amount = "fund_total_fen" if name == "daily_accrual" else "revoked_fen"
    builder, arguments = CASES[name][0], CASES[name][1]
    assert builder(**{**arguments, amount: 0}) is None


def test_a_negative_daily_line_swaps_the_sides() -> None:
    draft = build("daily_accrual", fund_total_fen=-40)
    assert draft.lines == (d("payable", 40), c("expense", 40))
    assert build("daily_revocation", revoked_fen=-40).lines == (d("expense", 40), c("payable", 40))


@pytest.mark.parametrize("name", [*sorted(entries.INSTRUCTION_RESULTS), "sent"])
@pytest.mark.parametrize("amount_fen", [0, -1, -12345])
def test_an_instruction_of_zero_or_less_is_refused(name: str, amount_fen: int) -> None:
    with pytest.raises(LedgerRuleError, match="> 0 fen"):
        build(f"instruction_{name}", amount_fen=amount_fen)


@pytest.mark.parametrize("name", ["procurement_advance", "repayment", "appropriation"])
def test_recorded_money_of_zero_is_refused(name: str) -> None:
    with pytest.raises(LedgerRuleError, match="at least two postings"):
        build(name, amount_fen=0)


@pytest.mark.parametrize("name", ["procurement_advance", "repayment", "appropriation"])
def test_recorded_money_below_zero_swaps_the_sides(name: str) -> None:
    """What the sites did (SPEC §6: a negative amount swaps the sides); the routers take only
    positive amounts."""
    positive, negative = build(name), build(name, amount_fen=-CASES[name][1]["amount_fen"])
    flipped = {(line.account, "C" if line.side == "D" else "D") for line in positive.lines}
    assert {(line.account, line.side) for line in negative.lines} == flipped
    assert negative.key == positive.key


def test_a_statement_or_clearing_that_moves_nothing_posts_nothing() -> None:
    zero_statement = dict.fromkeys(
        ("audit_fen", "deposit_fen", "procurement_fen", "offset_fen", "net_fen"), 0
    )
    assert (
        entries.statement_approval(**{**CASES["statement_approval"][1], **zero_statement}) is None
    )
    zero_clearing = dict.fromkeys(
        (
            "clearing_amount_fen",
            "approved_fund_fen",
            "deposit_held_fen",
            "forfeited_fen",
            "offset_fen",
            "actual_fen",
        ),
        0,
    )
    assert entries.clearing_approval(**{**CASES["clearing_approval"][1], **zero_clearing}) is None


def test_a_statement_with_a_negative_net_makes_the_receivable() -> None:
    draft = build("statement_approval", audit_fen=0, deposit_fen=0, procurement_fen=0, net_fen=-75)
    assert draft.lines == (
        d("payable", 50),
        c("receivable", 50),
        d("receivable", 75),
        c("payable", 75),
    )


# --- properties -------------------------------------------------------------------------------

FEN = st.integers(min_value=-(10**12), max_value=10**12)


def effect(draft: Draft | None, name: str) -> int:
    """Debit minus credit on the institution's account `name`."""
    if draft is None:
        return 0
    return sum(
        line.amount_fen if line.side == "D" else -line.amount_fen
        for line in draft.lines
        if line.account == acct(name, CODE)
    )


@given(audit=FEN, deposit=FEN, procurement=FEN, offset=FEN, net=FEN)
def test_a_statement_balances_and_credits_payable_by_its_components(
    audit: int, deposit: int, procurement: int, offset: int, net: int
) -> None:
    draft = entries.statement_approval(
        **{
            **CASES["statement_approval"][1],
            "audit_fen": audit,
            "deposit_fen": deposit,
            "procurement_fen": procurement,
            "offset_fen": offset,
            "net_fen": net,
        }
    )
    if draft is not None:
        debit, credit = sides(draft)
        assert debit == credit
        assert draft.key == "statement:11:v2:approval"
    assert effect(draft, "payable") == audit + deposit + procurement + offset + min(net, 0)
    assert effect(draft, "receivable") == -offset - min(net, 0)
    assert effect(draft, "expense") == -audit


@given(clearing=FEN, approved=FEN, held=FEN, forfeited=FEN, offset=FEN, actual=FEN)
def test_a_clearing_balances_and_moves_payable_and_expense_by_its_parts(
    clearing: int, approved: int, held: int, forfeited: int, offset: int, actual: int
) -> None:
    draft = entries.clearing_approval(
        **{
            **CASES["clearing_approval"][1],
            "clearing_amount_fen": clearing,
            "approved_fund_fen": approved,
            "deposit_held_fen": held,
            "forfeited_fen": forfeited,
            "offset_fen": offset,
            "actual_fen": actual,
        }
    )
    if draft is not None:
        debit, credit = sides(draft)
        assert debit == credit
        assert (draft.key, draft.period) == ("clearing:5:v1:approval", "2025-12")
    k, released = clearing - approved, held - forfeited
    assert effect(draft, "payable") == -k - released + offset + min(actual, 0)
    assert effect(draft, "expense") == k - forfeited
    assert effect(draft, "deposit_held") == held


@given(name=st.sampled_from(sorted(CASES)), amount=st.integers(1, 10**12))
def test_the_amount_never_makes_the_key(name: str, amount: int) -> None:
    field = {
        "daily_accrual": "fund_total_fen",
        "daily_revocation": "revoked_fen",
        "statement_approval": "audit_fen",
        "clearing_approval": "clearing_amount_fen",
        "prepayment_received": "transfer_fen",
    }.get(name, "amount_fen")
    draft = build(name, **{field: amount})
    assert draft.key == CASES[name][2].key
    debit, credit = sides(draft)
    assert debit == credit > 0


def test_each_bank_result_has_the_rule_of_its_event() -> None:
    assert {
        event: rule(**INSTRUCTION).kind for event, rule in entries.INSTRUCTION_RESULTS.items()
    } == {
        "success": "instruction_success",
        "failed": "instruction_failed",
        "returned": "instruction_returned",
    }


def reversal_of(original: Draft, entry_key: str) -> Draft:
    return entries.reversal(
        entry_id=41,
        entry_key=entry_key,
        region_code=original.region_code,
        insutype=original.insutype,
        fixmedins_code=original.fixmedins_code,
        period=original.period,
        business_ref=original.business_ref,
        lines=original.lines,
        reason="typo",
        effective_at=LATER,
    )


def test_a_reversal_mirrors_the_entry_under_its_own_key() -> None:
    original = CASES["statement_approval"][2]
    draft = reversal_of(original, original.key)
    assert (draft.kind, draft.key, draft.memo, draft.reverses_entry_id) == (
        "reversal",
        "reversal:statement:11:v2:approval",
        "typo",
        41,
    )
    assert (draft.period, draft.business_ref) == (original.period, original.business_ref)
    assert [(line.account, line.amount_fen) for line in draft.lines] == [
        (line.account, line.amount_fen) for line in original.lines
    ]
    assert all(a.side != b.side for a, b in zip(draft.lines, original.lines, strict=True))
    assert reversal_of(original, "k" * 160).key == ("reversal:" + "k" * 160)[:160]


# --- SPEC §6: every posting rule has its builder ---------------------------------------------

# (event, as written in SPEC §6's table; arguments that make the row happen; debits; credits)
SPEC_6: list[tuple[str, dict[str, Any], set[str], set[str]]] = [
    ("daily batch generated: each line", {}, {"expense"}, {"payable"}),
    (
        "daily batch generated: settlements revoked after batching, since the last batch",
        {},
        {"payable"},
        {"expense"},
    ),
    ("instruction sent", {}, {"payable"}, {"in_transit"}),
    ("result SUCCESS", {}, {"in_transit"}, {"bank"}),
    ("result FAILED", {}, {"in_transit"}, {"payable"}),
    ("RETURNED after SUCCESS", {}, {"bank"}, {"payable"}),
    (
        "statement approved: audit, deposit, procurement, offset",
        {},
        {"payable"},
        {"expense", "deposit_held", "procurement_advance", "receivable"},
    ),
    (
        "statement approved with net < 0",
        {"audit_fen": 0, "deposit_fen": 0, "procurement_fen": 0, "offset_fen": 0, "net_fen": -10},
        {"receivable"},
        {"payable"},
    ),
    (
        "clearing approved: K = clearing_amount − approved_fund",
        {"deposit_held_fen": 0, "forfeited_fen": 0, "offset_fen": 0},
        {"expense"},
        {"payable"},
    ),
    (
        "clearing approved: deposit release",
        {"clearing_amount_fen": 0, "approved_fund_fen": 0, "offset_fen": 0},
        {"deposit_held"},
        {"payable", "expense"},
    ),
    (
        "clearing approved: offset; actual < 0",
        {
            "clearing_amount_fen": 0,
            "approved_fund_fen": 0,
            "deposit_held_fen": 0,
            "forfeited_fen": 0,
            "actual_fen": -30,
        },
        {"payable", "receivable"},
        {"receivable", "payable"},
    ),
    (
        "procurement advance paid to suppliers (outside the service, recorded by the operator)",
        {},
        {"procurement_advance"},
        {"bank"},
    ),
    ("cash repayment by an institution", {}, {"bank"}, {"receivable"}),
    ("appropriation into the expenditure account", {}, {"bank"}, {"appropriation"}),
]


def test_every_posting_rule_of_spec_6_has_a_builder() -> None:
    assert [event for event, *_ in SPEC_6] == list(entries.RULES)


@pytest.mark.parametrize(("event", "changes", "debits", "credits"), SPEC_6)
def test_each_rule_posts_its_sides(
    event: str, changes: dict[str, Any], debits: set[str], credits: set[str]
) -> None:
    [name] = [name for name, case in CASES.items() if case[0] is entries.RULES[event]]
    draft = build(name, **changes)
    accounts = Counter((line.account.split(":")[0], line.side) for line in draft.lines)
    assert {name for name, side in accounts if side == "D"} == debits
    assert {name for name, side in accounts if side == "C"} == credits


def test_an_assistance_statement_below_zero_swaps_and_makes_the_receivable() -> None:
    """A5: a negative amount swaps expense and payable and moves it to the receivable; the
    region's expense has no institution."""
    draft = build(
        "assistance_statement_approval", gross_fen=-50_000, offset_fen=0, amount_fen=-50_000
    )
    expense = account_code("expense", REGION, "610")
    payable = account_code("payable", REGION, "610", CODE)
    receivable = account_code("receivable", REGION, "610", CODE)
    assert expense == "expense:640100:610"
    assert draft.lines == (
        Line(payable, "D", 50_000),
        Line(expense, "C", 50_000),
        Line(receivable, "D", 50_000),
        Line(payable, "C", 50_000),
    )
    zero = {"gross_fen": 0, "offset_fen": 0, "amount_fen": 0}
    assert (
        assistance_entries.assistance_statement_approval(
            **{**CASES["assistance_statement_approval"][1], **zero}
        )
        is None
    )
