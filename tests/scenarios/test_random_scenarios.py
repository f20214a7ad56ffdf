"""Random scenarios (seeded generators) played through the runner always end with: a balanced
trial balance that `verify` recomputes; zero in transit when no payment awaits a result; and,
per institution, once all its periods are settled and its year cleared (SPEC §6):
money received + procurement advances − repayments − what it still owes back
= Σ statements (ratio_amount − audit) + Σ clearings (clearing_amount − settled − forfeited)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.annual.models import AnnualClearing
from app.bank.models import PaymentInstruction
from app.clock import SHANGHAI
from app.db import make_engine, make_sessionmaker, transaction
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.money import yuan
from app.monthly.models import MonthlyStatement, ProcurementAdvance, Repayment
from app.scenarios import runner
from app.scenarios.model import Scenario
from tests.support.databases import fresh_database
from tests.support.scenarios import assert_three_flows

INSTITUTIONS = ("H001", "H002")


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).isoformat()


def random_scenario(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = [
        {
            "at": _at(date(2026, 11, 1), 8),
            "type": "appropriation",
            "data": {"region": "640100", "insutype": "310", "amount": "10000000.00"},
        }
    ]
    bank: list[dict[str, Any]] = []
    day = date(2026, 11, 2)
    number = 0
    while day <= date(2026, 12, 20):
        for code in INSTITUTIONS:
            for _ in range(rng.randint(0, 2)):
                number += 1
                setl_id = f"S{number}"
                fund = rng.randint(1, 5_000_000)  # fen
                hour = rng.randint(8, 18)
                events.append(
                    {
                        "at": _at(day, hour),
                        "type": "settlement",
                        "data": {
                            "fixmedins_code": code,
                            "setl_id": setl_id,
                            "psn_no": f"P{number}",
                            "insutype": "310",
                            "med_type": "21",
                            "insuplc_admdvs": "640104",
                            "setl_time": _at(day, hour),
                            "medfee_sumamt": yuan(fund + 100_000),
                            "hifp_pay": yuan(fund),
                            "hifob_pay": "0.00",
                        },
                    }
                )
                roll = rng.random()
                if roll < 0.08:  # revoked before or after batching
                    later = day if rng.random() < 0.5 else day + timedelta(days=rng.randint(1, 9))
                    events.append(
                        {
                            "at": _at(later, 20),
                            "type": "revoke",
                            "data": {"fixmedins_code": code, "setl_id": setl_id, "reason": "x"},
                        }
                    )
                elif roll < 0.2:
                    audit_day = day + timedelta(days=rng.randint(1, 6))
                    events.append(
                        {
                            "at": _at(audit_day, 10),
                            "type": "audit",
                            "data": {
                                "fixmedins_code": code,
                                "setl_id": setl_id,
                                "rule_code": "R1",
                                "amount": yuan(rng.randint(1, fund)),
                                "reason": "r",
                            },
                        }
                    )
                    if rng.random() < 0.5:
                        events.append(
                            {
                                "at": _at(audit_day, 16),
                                "type": "appeal",
                                "data": {
                                    "fixmedins_code": code,
                                    "setl_id": setl_id,
                                    "rule_code": "R1",
                                    "reason": "a",
                                },
                            }
                        )
                        events.append(
                            {
                                "at": _at(audit_day + timedelta(days=1), 11),
                                "type": "review",
                                "data": {
                                    "fixmedins_code": code,
                                    "setl_id": setl_id,
                                    "rule_code": "R1",
                                    "amount": "0.00",
                                    "final": True,
                                },
                            }
                        )
        if rng.random() < 0.08:
            bank.append(
                {
                    "fixmedins_code": rng.choice(INSTITUTIONS),
                    "kind": "daily",
                    "pay_date": day.isoformat(),
                    "status": rng.choice(["FAILED", "RETURNED"]),
                    "return_after": rng.randint(1, 3),
                    "reason": "r",
                }
            )
        if rng.random() < 0.05:
            events.append(
                {
                    "at": _at(day, 12),
                    "type": "procurement_advance",
                    "data": {
                        "fixmedins_code": rng.choice(INSTITUTIONS),
                        "insutype": "310",
                        "period": "2026-12",
                        "amount": yuan(rng.randint(100, 300_000)),
                        "reference": f"JC-{day}",
                    },
                }
            )
        day += timedelta(days=1)
    if rng.random() < 0.5:
        bank.append(
            {"kind": "monthly", "pay_date": "2026-12-21", "status": "FAILED", "reason": "r"}
        )
    for code in INSTITUTIONS:
        assessment: dict[str, Any] = {
            "year": 2026,
            "fixmedins_code": code,
            "insutype": "310",
            "assessment_score": rng.randint(40, 100),
            "credit_score": rng.randint(40, 100),
        }
        if rng.random() < 0.3:
            assessment["clearing_amount"] = yuan(rng.randint(0, 20_000_000))
        if rng.random() < 0.3:
            assessment["budget"] = yuan(rng.randint(0, 20_000_000))
        events.append({"at": _at(date(2027, 1, 12), 10), "type": "assessment", "data": assessment})
        events.append(
            {
                "at": _at(date(2027, 1, 26), 15),
                "type": "repayment",
                "data": {
                    "fixmedins_code": code,
                    "insutype": "310",
                    "amount": yuan(rng.randint(1, 100_000)),
                    "receipt_no": f"YH-{code}",
                },
            }
        )
    events.sort(key=lambda e: e["at"])
    return {
        "name": f"random-{seed}",
        "start": "2026-11-01",
        "end": "2027-02-21",
        "auto": {"reconcile": True, "declare": True, "approve": True, "confirm": True},
        "regions": [{"code": "640100", "name": "银川市"}],
        "funds": [
            {
                "region": "640100",
                "insutype": "310",
                "daily_ratio": "0.60",
                "deposit_rate": "0.05",
                "effective_from": "2026-01-01",
            }
        ],
        "institutions": [
            {
                "code": code,
                "name": code,
                "level": 3 - index,
                "region": "640100",
                "insutypes": ["310"],
                "bank_account": f"622200000000000{index}",
                "bank_account_name": code,
                "bank_code": "102871000011",
            }
            for index, code in enumerate(INSTITUTIONS)
        ],
        "calendar": [],
        "bank": bank,
        "annual_rules": [
            {
                "year": 2026,
                "assessment_bands": [
                    {"min_score": 90, "return_ratio": "1.00"},
                    {"min_score": 60, "return_ratio": "0.60"},
                    {"min_score": 0, "return_ratio": "0.00"},
                ],
                "credit_bands": [
                    {"min_score": 80, "return_ratio": "1.00"},
                    {"min_score": 0, "return_ratio": "0.50"},
                ],
            }
        ],
        "events": events,
    }


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.integers(min_value=1, max_value=10**6))
def test_random_scenarios_keep_the_books(seed: int) -> None:
    scenario = Scenario.model_validate(random_scenario(seed))
    with fresh_database() as url:  # at head: the runner's upgrade has nothing to do
        result = runner.run(scenario, url)
        assert result["trial_balance"]["balanced"], result["trial_balance"]
        engine = make_engine(url)
        with transaction(make_sessionmaker(engine)) as session:
            report = ledger.verify(session)
            assert report.ok, report
            pending = session.scalar(
                select(func.count())
                .select_from(PaymentInstruction)
                .where(PaymentInstruction.status.in_(["QUEUED", "ACCEPTED", "UNKNOWN"]))
            )
            if pending == 0:
                assert (
                    ledger.balance_or_zero(session, account_code("in_transit", "640100", "310"))
                    == 0
                )
            for code in INSTITUTIONS:
                _books_of(session, code)
        engine.dispose()
        assert_three_flows(url)


def _books_of(session: Any, code: str) -> None:
    statements = session.scalars(
        select(MonthlyStatement).where(MonthlyStatement.fixmedins_code == code)
    ).all()
    clearings = session.scalars(
        select(AnnualClearing).where(AnnualClearing.fixmedins_code == code)
    ).all()
    final = ("PAID", "SETTLED", "RECEIVABLE")
    if (
        not statements
        or any(s.status not in final for s in statements)
        or [c.status for c in clearings] not in (["PAID"], ["SETTLED"], ["RECEIVABLE"])
    ):
        return  # not every document is settled in this run: the identity is for settled books

    def amount(name: str) -> int:
        return ledger.balance_or_zero(session, account_code(name, "640100", "310", code))

    assert amount("payable") == 0  # all its periods are settled
    received = session.scalar(
        select(func.coalesce(func.sum(PaymentInstruction.amount_fen), 0)).where(
            PaymentInstruction.fixmedins_code == code, PaymentInstruction.status == "SUCCESS"
        )
    )
    advances = session.scalar(
        select(func.coalesce(func.sum(ProcurementAdvance.amount_fen), 0)).where(
            ProcurementAdvance.fixmedins_code == code
        )
    )
    repaid = session.scalar(
        select(func.coalesce(func.sum(Repayment.amount_fen), 0)).where(
            Repayment.fixmedins_code == code
        )
    )
    owed = sum(s.ratio_amount_fen - s.audit_fen for s in statements) + sum(
        c.gross_fen for c in clearings
    )
    assert received + advances - repaid - amount("receivable") == owed
    clearing = clearings[0]
    assert amount("expense") == clearing.clearing_amount_fen - clearing.forfeited_fen
    assert amount("deposit_held") == 0
