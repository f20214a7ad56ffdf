"""Soak: a month of three hospitals (daily payments, one failed, one returned, the monthly statements paid in
April) played twice by the scenario runner, once against a bank on a bad day (SimFaults: a
seeded mix of timeouts, 500s before and after taking a payment, slow answers, failed status
queries, callbacks duplicated, reordered and delayed by hours). The end is the same: the
scenario result, the ledger entries per kind, every instruction and its status; the ledger
verifies and no key is posted twice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.bank.simdata import SimFaults
from app.db import make_engine, make_sessionmaker, transaction
from app.institutions.models import Institution
from app.scenarios import runner
from app.scenarios.model import Scenario
from tests.support.databases import fresh_database
from tests.support.faults import differences, outcome, problems

FAULTS = SimFaults(
    seed=20260301,
    timeout_rate=0.12,
    timeout_s=0.6,  # the runner's gateway waits half of it
    error_rate=0.15,
    slow_rate=0.1,
    slow_s=0.05,
    query_error_rate=0.2,
    duplicate_rate=0.3,
    reorder=True,
    delay_hours_max=8,
)
HOSPITALS = (("H001", 3), ("H002", 2), ("H003", 3))


def month() -> Scenario:
    """March 2026 of three hospitals, working days only, then April until the statements
        are paid. H002's daily payment of 03-10 fails at the bank, H003's of 03-17 comes back two
    working days later (scenario rules)."""
    events: list[dict[str, Any]] = [
        {
            "at": "2026-03-01T09:00:00+08:00",
            "type": "appropriation",
            "data": {"region": "640100", "insutype": "310", "amount": "900000.00"},
        }
    ]
    day = date(2026, 3, 2)
    number = 0
    while day.month == 3:
        if day.weekday() < 5:
            for index, (code, _) in enumerate(HOSPITALS):
                number += 1
                hifp = f"{1000 + 37 * number + 100 * index}.{number % 100:02d}"
                events.append(
                    {
                        "at": f"{day}T10:00:00+08:00",
                        "type": "settlement",
                        "data": {
                            "fixmedins_code": code,
                            "setl_id": f"S{number:04d}",
                            "psn_no": f"P{number:04d}",
                            "insutype": "310",
                            "med_type": "21",
                            "insuplc_admdvs": "640100",
                            "setl_time": f"{day}T09:30:00+08:00",
                            "medfee_sumamt": "9000.00",
                            "hifp_pay": hifp,
                            "hifob_pay": "0.00",
                        },
                    }
                )
        day += timedelta(days=1)
    return Scenario.model_validate(
        {
            "name": "bank-faults-soak",
            "start": "2026-03-01",
            "end": "2026-04-23",  # March computed 04-16, confirmed, approved, paid 04-20
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
                    "name": f"医院{code}",
                    "level": level,
                    "region": "640100",
                    "insutypes": ["310"],
                    "bank_account": f"622200000000{index:04d}",
                    "bank_account_name": f"医院{code}",
                    "bank_code": "102871000011",
                }
                for index, (code, level) in enumerate(HOSPITALS, start=1)
            ],
            "bank": [
                {
                    "fixmedins_code": "H002",
                    "kind": "daily",
                    "pay_date": "2026-03-10",
                    "status": "FAILED",
                    "reason": "收款账户状态异常",
                },
                {
                    "fixmedins_code": "H003",
                    "kind": "daily",
                    "pay_date": "2026-03-17",
                    "status": "RETURNED",
                    "return_after": 2,
                    "reason": "收款账户已销户",
                },
            ],
            "events": events,
        }
    )


def _play(scenario: Scenario, faults: SimFaults | None) -> tuple[dict[str, Any], list[str], Any]:
    with fresh_database() as url:
        engine = make_engine(url)
        try:
            factory = make_sessionmaker(engine)
            with transaction(factory) as session:
                assert session.scalar(select(Institution.code).limit(1)) is None
            play = runner.Runner(scenario, engine, bank_faults=faults)
            play.play()
            with transaction(factory) as session:
                return outcome(session, scenario), problems(session), play
        finally:
            engine.dispose()


def test_a_month_against_a_bank_on_a_bad_day_ends_as_without() -> None:
    scenario = month()
    calm, calm_problems, _ = _play(scenario, None)
    assert not calm_problems
    stormy, stormy_problems, play = _play(scenario, FAULTS)
    seen = play.bank.faults_seen
    # every kind of fault happened (else this test would prove nothing about it)
    for kind in ("timeout", "error", "slow", "query_error", "duplicate", "reorder", "delay"):
        assert seen.get(kind, 0) > 0, f"no {kind} fault in the soak: {seen}"
    assert not stormy_problems, "\n".join(stormy_problems)
    assert not differences(stormy, calm), "\n".join(differences(stormy, calm))
    # the month really moved money: daily lines paid, one failed, statements paid
    statuses = {line["status"] for line in calm["daily_lines"]}
    assert {"PAID", "FAILED", "RETURNED"} <= statuses, statuses
    assert any(s["status"] == "PAID" for s in calm["monthly_statements"]), calm[
        "monthly_statements"
    ]
