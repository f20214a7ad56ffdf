"""Properties of the individual clearing over random person-years (SPEC-ASSISTANCE A7, A10):
random settlements, deductions, burden relief, category changes, applications, approvals,
rejected top-ups, notices and clearings at random moments, all through the API. After every
clearing due = granted; the person-year's results (not taken back) add up to due − (Σ maf_pay
+ Σ application amounts); receivables are never below zero and the ledger agrees with the
claims; a clearing sent again is a replay and pays nothing twice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.assistance import claims
from app.assistance.person_models import PersonClaim, PersonPayment
from app.clock import SimulatedClock
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.money import to_fen
from tests.support.assistance import settle
from tests.support.clearing import BASE, at, clearing_world, computed, person

DAY0 = date(2026, 2, 1)  # the 610 fund is on (the assistance world's switch-on)

ACTION = st.one_of(
    st.tuples(
        st.just("settle"),
        st.integers(0, 300),  # day
        st.integers(1, 40_000),  # inscp in yuan
        st.integers(0, 80),  # hifp %
        st.integers(0, 100),  # maf_pay % of what is left
    ),
    st.tuples(st.just("deduct"), st.integers(0, 9), st.integers(1, 8_000)),
    st.tuples(st.just("relief"), st.integers(1, 3_000)),
    st.tuples(
        st.just("category"), st.sampled_from(["tekun", "end_low_income"]), st.integers(0, 300)
    ),
    st.tuples(st.just("apply"), st.integers(0, 300), st.integers(1, 5_000)),
    st.tuples(st.just("approve")),
    st.tuples(st.just("reject")),
    st.tuples(st.just("deliver")),
    st.tuples(st.just("clear"), st.sampled_from([None, "next_period", "cash"])),
    st.tuples(st.just("clear"), st.sampled_from([None, "next_period", "cash"])),
)


@pytest.fixture
def headers(client: TestClient, session: Session, clock: SimulatedClock) -> dict:
    found = clearing_world(client, session)
    at(clock, "2026-12-31T10:00")
    return found


def _day(offset: int) -> str:
    return (DAY0 + timedelta(days=offset)).isoformat()


class Run:
    def __init__(self, client: TestClient, h: dict, factory: sessionmaker[Session]) -> None:
        self.client, self.h, self.factory = client, h, factory
        self.settlements: list[str] = []
        self.count = 0
        self.categories = ["dibao", "low_income"]
        self.held: list[dict[str, Any]] = []

    def post(self, path: str, body: Any, who: str = "operator") -> Any:
        return self.client.post(f"{BASE}{path}", json=body, headers=self.h[who])

    def settle(self, day: int, inscp: int, hifp_pct: int, maf_pct: int) -> None:
        hifp = inscp * hifp_pct // 100
        maf = (inscp - hifp) * maf_pct // 100
        setl_id = f"S{len(self.settlements)}"
        settle(self.client, self.h, setl_id, _day(day), inscp=f"{inscp}.00", hifp=f"{hifp}.00",
               maf=f"{maf}.00")  # fmt: skip
        self.settlements.append(setl_id)

    def act(self, action: tuple[Any, ...]) -> None:
        kind, *args = action
        self.count += 1
        n = self.count
        if kind == "settle":
            self.settle(*args)
        elif kind == "deduct" and self.settlements:
            setl_id = self.settlements[args[0] % len(self.settlements)]
            body = {"reference": f"D{n}", "type": "critical_illness", "psn_no": "P1",
                    "amount": f"{args[1]}.00", "fixmedins_code": "H001", "setl_id": setl_id}  # fmt: skip
            assert self.post("/deductions", body).status_code == 201
        elif kind == "relief":
            body = {"reference": f"D{n}", "type": "burden_relief", "psn_no": "P1", "year": 2026,
                    "amount": f"{args[0]}.00"}  # fmt: skip
            assert self.post("/deductions", body).status_code == 201
        elif kind == "category":
            record = person(["dibao", "low_income"])
            if args[0] == "tekun":
                record["categories"] = [{"category": "tekun", "valid_from": _day(args[1])}]
            else:
                record["categories"] = [
                    {
                        "category": "low_income",
                        "valid_from": "2026-01-01",
                        "valid_to": _day(args[1]),
                    }
                ]
            put = self.client.put(f"{BASE}/recipients/P1", json=record, headers=self.h["operator"])
            assert put.status_code in (200, 201), put.text
        elif kind == "apply":
            body = {"reference": f"A{n}", "psn_no": "P1", "invoices": [
                {"invoice_no": f"INV{n}", "visit": "outpatient", "date": _day(args[0]),
                 "medfee_sumamt": f"{args[1]}.00", "inscp_scp_amt": f"{args[1]}.00"}]}  # fmt: skip
            assert self.post("/applications", body).status_code == 201
        elif kind in ("approve", "reject"):
            for payment in self.pending():
                if kind == "approve":
                    done = self.post(
                        f"/person-payments/{payment['id']}/approve", None, "accountant"
                    )
                elif payment["kind"] == "top_up":
                    done = self.post(f"/person-payments/{payment['id']}/reject", {"reason": "退回"},
                                     "accountant")  # fmt: skip
                else:
                    continue
                assert done.status_code == 200, done.text
        elif kind == "deliver":
            with self.factory() as session:
                references = session.scalars(select(PersonClaim.reference)).all()
            for reference in references:
                assert (
                    self.post(f"/clearings/{reference}/notice-delivered", None).status_code == 200
                )
        elif kind == "clear":
            self.clear(f"C{n}", args[0])

    def pending(self) -> list[dict[str, Any]]:
        listed = self.client.get(
            f"{BASE}/person-payments?status=PENDING_APPROVAL", headers=self.h["accountant"]
        )
        return list(listed.json()["items"])

    def counts(self) -> tuple[int, int]:
        with self.factory() as session:
            return (
                session.scalar(select(func.count()).select_from(PersonPayment)) or 0,
                session.scalar(select(func.count()).select_from(PersonClaim)) or 0,
            )

    def clear(self, reference: str, resolution: str | None) -> None:
        body = {"reference": reference, "psn_no": "P1", "year": 2026, "resolution": resolution}
        with self.factory() as session:
            before = computed(session)
        made = self.post("/clearings", body)
        if before.difference_fen == 0:
            assert made.status_code == 409, made.text
            return
        assert made.status_code == 201, made.text
        assert to_fen(made.json()["difference"]) == before.difference_fen
        with self.factory() as session:
            after = computed(session)
            assert after.due_fen == after.granted_fen  # nothing left to clear
            listed = self.client.get(
                f"{BASE}/clearings?psn_no=P1&year=2026&limit=500", headers=self.h["auditor"]
            ).json()["items"]
            results = sum(to_fen(row["difference"]) for row in listed if not row["taken_back"])
            granted = after.granted
            assert results == after.due_fen - (granted.maf_pay_fen + granted.applications_fen)
        counts = self.counts()
        again = self.post("/clearings", body)
        assert again.status_code == 200 and again.json() == made.json()  # a replay
        assert self.counts() == counts  # nothing paid or claimed twice

    def check_receivable(self) -> None:
        with self.factory() as session:
            code = account_code("receivable", "640100", "610", "PP1")
            books = ledger.balance_or_zero(session, code)
            (row,) = claims.receivables(session, region_code="640100", psn_no="P1")
            assert books == row["balance_fen"] >= 0
            assert all(claim.open_fen >= 0 for claim in session.scalars(select(PersonClaim)))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(ACTION, min_size=1, max_size=10))
def test_clearing_properties_over_random_person_years(
    client: TestClient,
    connection: Connection,
    session_factory: sessionmaker[Session],
    headers: dict,
    actions: list[tuple[Any, ...]],
) -> None:
    example = connection.begin_nested()
    try:
        run = Run(client, headers, session_factory)
        run.settle(40, 30_000, 60, 50)  # one item to start with
        for action in actions:
            run.act(action)
            run.check_receivable()
        run.clear("C-last", "next_period")
        run.check_receivable()
    finally:
        example.rollback()
