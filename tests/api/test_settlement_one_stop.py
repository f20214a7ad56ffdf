"""The one-stop fields of the 2304 upload (SPEC-ASSISTANCE A3, A10 "Items"; issue 21 item 3):
optional, stored as fen, validated (policy range and payers within the total, maf_pay only
with a policy range and for a person holding a category that day), single and bulk; a
settlement sent before them is still a replay; the daily amount never includes them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance.policy import Category
from app.assistance.recipients import put
from app.assistance.schemas import RecipientIn
from app.settlements import rules
from app.settlements.models import Settlement
from tests.support.builders import ADMIN, NOW
from tests.support.intake import record, world

ONE_STOP = {
    "inscp_scp_amt": "14000.00",
    "hifmi_pay": "1000.00",
    "cvlserv_pay": "200.00",
    "hifes_pay": "300.00",
    "maf_pay": "2000.00",
    "oth_pay": "100.00",
}


def _recipient(session: Session, psn_no: str, valid_from: date, valid_to: date | None) -> None:
    put(
        session,
        psn_no,
        RecipientIn.model_validate(
            {
                "name": "王五",
                "certno": "640102199001011234",
                "region_code": "640100",
                "categories": [
                    {
                        "category": Category.DIBAO.value,
                        "valid_from": valid_from.isoformat(),
                        "valid_to": valid_to and valid_to.isoformat(),
                    }
                ],
            }
        ),
        actor=ADMIN,
        now=NOW,
    )


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    found = world(session)
    _recipient(session, "P0001", date(2026, 1, 1), None)  # holds dibao on 2026-03-06
    _recipient(session, "P0002", date(2026, 1, 1), date(2026, 3, 5))  # exited the day before
    session.commit()
    return found


def _errors(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


def test_fields_are_stored_and_shown_and_leave_the_fund_amount_alone(
    client: TestClient, headers: dict, session: Session
) -> None:
    response = client.post("/api/v1/settlements", json=record(**ONE_STOP), headers=headers["H001"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert {key: body[key] for key in ONE_STOP} == ONE_STOP
    assert body["fund_amount"] == "10000.00"
    row = session.scalars(select(Settlement)).one()
    assert (row.inscp_scp_amt_fen, row.maf_pay_fen, row.oth_pay_fen) == (1_400_000, 200_000, 10_000)
    # the daily amount is the basic fund's share only (SPEC §3: 60 % of hifp + hifob)
    assert row.daily_amount_fen == 600_000
    plain = client.post("/api/v1/settlements", json=record("S2"), headers=headers["H001"]).json()
    assert {key: plain[key] for key in ONE_STOP} == dict.fromkeys(ONE_STOP, "0.00")


def test_replay_and_conflict_with_the_new_fields(
    client: TestClient, headers: dict, session: Session
) -> None:
    h = headers["H001"]
    assert client.post("/api/v1/settlements", json=record(), headers=h).status_code == 201
    # defaults sent explicitly are the same content as fields not sent
    zeros = record(**dict.fromkeys(ONE_STOP, "0.00"))
    assert client.post("/api/v1/settlements", json=zeros, headers=h).status_code == 200
    changed = client.post(
        "/api/v1/settlements", json=record(maf_pay="1.00", inscp_scp_amt="9.00"), headers=h
    )
    assert changed.status_code == 409, changed.text
    assert (
        client.post("/api/v1/settlements", json=record("S3", **ONE_STOP), headers=h).status_code
        == 201
    )
    again = client.post("/api/v1/settlements", json=record("S3", **ONE_STOP), headers=h)
    assert again.status_code == 200
    other = client.post(
        "/api/v1/settlements", json=record("S3", **{**ONE_STOP, "oth_pay": "0.00"}), headers=h
    )
    assert other.status_code == 409


def test_a_hash_stored_before_the_fields_existed_still_matches() -> None:
    """The hash of a record as uploads computed it before issue 21 (no one-stop keys) equals
    the hash of the same record now (keys at 0): stored settlements replay, not conflict."""
    before = {
        "fixmedins_code": "H001",
        "setl_id": "S1",
        "psn_no": "P0001",
        "medfee_sumamt": 1_500_000,
        "hifp_pay": 900_000,
        "hifob_pay": 100_000,
        "fund_pay_sumamt": None,
    }
    now = {**before, **dict.fromkeys(rules.ONE_STOP_FIELDS, 0)}
    assert rules.content_hash(now) == rules.content_hash(before)
    assert rules.content_hash({**now, "oth_pay": 1}) != rules.content_hash(before)


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"inscp_scp_amt": "15000.01"}, "inscp_scp_amt", "inscp_within_total"),
        (
            {"inscp_scp_amt": "14000.00", "hifmi_pay": "4000.00", "maf_pay": "1000.01"},
            "medfee_sumamt",
            "payers_within_total",
        ),
        ({"oth_pay": "5000.01"}, "medfee_sumamt", "payers_within_total"),
        ({"maf_pay": "100.00"}, "maf_pay", "maf_needs_inscp"),
        (
            {"maf_pay": "100.00", "inscp_scp_amt": "1000.00", "psn_no": "P9999"},
            "maf_pay",
            "not_a_recipient",
        ),
        (
            {"maf_pay": "100.00", "inscp_scp_amt": "1000.00", "psn_no": "P0002"},
            "maf_pay",
            "not_a_recipient",
        ),
        ({"hifmi_pay": "-1.00"}, "hifmi_pay", "amount_non_negative"),
        ({"cvlserv_pay": "1.001"}, "cvlserv_pay", "amount_decimals"),
        ({"hifes_pay": "x"}, "hifes_pay", "amount_format"),
    ],
)
def test_refusals_name_field_and_rule(
    client: TestClient, headers: dict, session: Session, overrides: dict, field: str, rule: str
) -> None:
    response = client.post("/api/v1/settlements", json=record(**overrides), headers=headers["H001"])
    errors = _errors(response)
    assert (field, rule) in errors
    assert session.scalars(select(Settlement)).first() is None


def test_non_recipient_with_zero_maf_pay_is_accepted(client: TestClient, headers: dict) -> None:
    body = record(psn_no="P9999", inscp_scp_amt="1000.00", hifmi_pay="100.00")
    assert client.post("/api/v1/settlements", json=body, headers=headers["H001"]).status_code == 201


def test_bulk_judges_the_new_fields_per_item(
    client: TestClient, headers: dict, session: Session
) -> None:
    items = [
        record("B1", **ONE_STOP),
        record("B2", psn_no="P0002", maf_pay="10.00", inscp_scp_amt="100.00"),
        record("B3", inscp_scp_amt="15000.01"),
        record("B4"),
    ]
    response = client.post(
        "/api/v1/settlements/bulk", json={"items": items}, headers=headers["H001"]
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "invalid", "invalid", "created"]
    assert [(e["field"], e["rule"]) for e in results[1]["errors"]] == [
        ("maf_pay", "not_a_recipient")
    ]
    assert [(e["field"], e["rule"]) for e in results[2]["errors"]] == [
        ("inscp_scp_amt", "inscp_within_total")
    ]
    stored = dict(session.execute(select(Settlement.setl_id, Settlement.maf_pay_fen)).all())
    assert stored == {"B1": 200_000, "B4": 0}
    replay = client.post(
        "/api/v1/settlements/bulk", json={"items": [items[0], items[3]]}, headers=headers["H001"]
    )
    assert [r["outcome"] for r in replay.json()["results"]] == ["duplicate", "duplicate"]
