"""The medical-assistance fund ledger `610` (SPEC-ASSISTANCE A1, issue 21 item 1): created and
switched on like a basic fund, with its own expenditure account and SPEC §6 accounts, and kept
apart from 310/390: no hospital enrols for it, no settlement names it, the daily batch and the
basic jobs never take it."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.daily import service as daily
from app.institutions import service as institutions
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.workdays.rules import WorkCalendar
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import at, settle

FUND_610 = {
    "region_code": "640100",
    "insutype": "610",
    "name": "银川市医疗救助基金",
    "expenditure_account": "9558800000000610",
    "expenditure_account_name": "医疗救助基金支出户",
}


def _headers(session: Session) -> dict[str, dict[str, str]]:
    headers = {
        "op": bearer(builders.user_token(session, "op", "operator")),
        "acc": bearer(builders.user_token(session, "acc", "accountant")),
    }
    session.commit()
    return headers


def _fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {error["field"] for error in response.json().get("errors", [])}


def test_610_is_created_and_switched_on_from_its_own_date(
    client: TestClient, session: Session
) -> None:
    builders.fund(session, insutype="310", effective_from=date(2026, 1, 1))
    headers = _headers(session)
    created = client.post("/api/v1/fund-ledgers", json=FUND_610, headers=headers["op"])
    assert created.status_code == 201, created.text
    assert created.json()["switched_on_from"] is None
    policy = client.post(
        "/api/v1/fund-ledgers/640100/610/policies",
        json={"effective_from": "2026-03-01"},
        headers=headers["op"],
    )
    assert policy.status_code == 201, policy.text
    shown = client.get("/api/v1/fund-ledgers/640100/610", headers=headers["op"]).json()
    assert shown["switched_on_from"] == "2026-03-01"
    assert shown["expenditure_account"] == "9558800000000610"
    before = client.get(
        "/api/v1/fund-ledgers/640100/610/policy", params={"on": "2026-02-28"}, headers=headers["op"]
    ).json()
    on = client.get(
        "/api/v1/fund-ledgers/640100/610/policy", params={"on": "2026-03-01"}, headers=headers["op"]
    ).json()
    assert (before["switched_on"], on["switched_on"]) == (False, True)
    listed = client.get("/api/v1/fund-ledgers", headers=headers["op"]).json()
    assert [(f["region_code"], f["insutype"]) for f in listed] == [
        ("640100", "310"),
        ("640100", "610"),
    ]
    again = client.post("/api/v1/fund-ledgers", json=FUND_610, headers=headers["op"])
    assert again.status_code == 409
    other = client.post(
        "/api/v1/fund-ledgers", json={**FUND_610, "insutype": "611"}, headers=headers["op"]
    )
    assert other.status_code == 422 and "insutype" in _fields(other)


def test_610_has_its_own_accounts_and_nothing_moves_to_or_from_310(
    client: TestClient, session: Session
) -> None:
    builders.institution(session, "H001", insutypes=("310",))
    builders.fund(session, insutype="610")
    settle(session, "H001", "S1", 1_000_000, date(2026, 3, 6))
    headers = _headers(session)
    response = client.post(
        "/api/v1/fund-ledgers/640100/610/appropriations",
        json={"amount": "21000.00", "reference": "CZ-2026-610-1"},
        headers=headers["acc"],
    )
    assert response.status_code == 201, response.text
    assert response.json()["insutype"] == "610"
    assert ledger.balance_or_zero(session, account_code("bank", "640100", "610")) == 2_100_000
    assert ledger.balance_or_zero(session, account_code("bank", "640100", "310")) == 0
    switched_on = daily.fund_ledgers_switched_on(session, date(2026, 3, 6))
    assert [fund.insutype for fund in switched_on] == ["310"]
    assert [f.insutype for f in institutions.list_fund_ledgers(session)] == ["310"]
    # the basic jobs list only basic funds; the 610 fund is asked for by name
    assert [f.insutype for f in institutions.list_fund_ledgers(session, insutypes=("610",))] == [
        "610"
    ]
    batch = daily.generate(
        session,
        institutions.get_fund_ledger(session, "640100", "310"),
        date(2026, 3, 6),
        now=at(date(2026, 3, 7), 0, 30),
        calendar=WorkCalendar(),
    )
    session.commit()
    assert batch is not None and batch.insutype == "310"
    assert ledger.balance_or_zero(session, account_code("bank", "640100", "610")) == 2_100_000
    assert ledger.balance_or_zero(session, account_code("payable", "640100", "610", "H001")) == 0
    assert ledger.balance_or_zero(session, account_code("payable", "640100", "310", "H001")) != 0


def test_no_enrolment_and_no_settlement_for_610(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001", insutypes=("310",))
    builders.fund(session, insutype="610")
    headers = _headers(session)
    enrol = client.post(
        "/api/v1/institutions/H001/enrollments",
        json={"insutype": "610", "start_date": "2026-01-01"},
        headers=headers["op"],
    )
    assert enrol.status_code == 422 and "insutype" in _fields(enrol), enrol.text
    hospital = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    upload = client.post(
        "/api/v1/settlements",
        json={
            "fixmedins_code": "H001",
            "setl_id": "S610",
            "psn_no": "P1",
            "insutype": "610",
            "med_type": "21",
            "insuplc_admdvs": "640100",
            "setl_time": "2026-03-06T09:00:00+08:00",
            "medfee_sumamt": "100.00",
            "hifp_pay": "50.00",
        },
        headers=hospital,
    )
    assert upload.status_code == 422 and "insutype" in _fields(upload)


def test_an_institution_code_may_not_take_a_persons_slot(
    client: TestClient, session: Session
) -> None:
    """P<psn_no> is a person's place in the 610 accounts (A1): hospital PP1 would share
    `payable:R:610:PP1` with person P1 (found by review)."""
    builders.fund(session, insutype="310")
    headers = _headers(session)
    body = {
        "code": "PP1",
        "name": "某医院",
        "level": 2,
        "region_code": "640100",
        "bank_account": "6222000000000009",
        "bank_account_name": "某医院",
        "bank_code": "102871000011",
    }
    refused = client.post("/api/v1/institutions", json=body, headers=headers["op"])
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("code", "person_slot_reserved")
    ]
    created = client.post(
        "/api/v1/institutions", json={**body, "code": "HP1"}, headers=headers["op"]
    )
    assert created.status_code == 201, created.text
