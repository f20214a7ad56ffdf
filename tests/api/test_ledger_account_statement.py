"""GET /api/v1/ledger/accounts/{code}/statement (往来对账单): opening + movements = closing, the
running balance, paging, receipt numbers, hospital scoping, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bank.models import PaymentInstruction
from app.db import transaction
from app.ledger import service as ledger
from tests.support import builders
from tests.support.builders import bearer
from tests.support.hospital import world_client
from tests.support.ledger import acct, transfer_draft

URL = "/api/v1/ledger/accounts/{}/statement"
PAYABLE = acct("payable", "H1")


def _at(day: int, hour: int) -> datetime:
    """2026-03-`day` at `hour`:00 in Shanghai."""
    return datetime(2026, 3, day, hour, tzinfo=UTC) - timedelta(hours=8)


# (key, day, Shanghai hour, debit, credit, fen): payable is credit-normal.
POSTINGS = [
    ("p1", 1, 9, acct("expense", "H1"), PAYABLE, 10_000_00),  # owed 10,000.00
    ("p2", 2, 0, PAYABLE, acct("in_transit"), 6_000_00),  # sent 6,000.00
    ("p3", 2, 23, acct("expense", "H1"), PAYABLE, 333_33),
    ("p4", 3, 8, acct("in_transit"), PAYABLE, 1_000_00),  # a failed payment back
    ("p5", 5, 12, PAYABLE, acct("in_transit"), 4_333_33),
    ("p6", 6, 0, acct("expense", "H2"), acct("payable", "H2"), 777_00),  # another hospital
]


def _setup(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H1")
    builders.institution(session, "H2")
    headers = {
        "h1": bearer(builders.user_token(session, "h1", "hospital", "H1")),
        "acc": bearer(builders.user_token(session, "acc", "accountant")),
    }
    for key, day, hour, debit, credit, fen in POSTINGS:
        when = _at(day, hour)
        ledger.post(session, transfer_draft(key, debit, credit, fen, when=when), now=when)
    session.commit()
    return headers


def _get(client: TestClient, headers: dict[str, str], code: str = PAYABLE, **params: Any) -> Any:
    return client.get(URL.format(code), params=params, headers=headers)


def _all_pages(
    client: TestClient, headers: dict[str, str], code: str = PAYABLE, **params: Any
) -> list[dict]:
    items, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = _get(client, headers, code, **params, **extra).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_opening_plus_movements_is_closing_with_a_running_balance(
    client: TestClient, session: Session
) -> None:
    headers = _setup(session)
    body = _get(client, headers["h1"], **{"from": "2026-03-01", "to": "2026-03-31"}).json()
    assert body["account"] == PAYABLE and body["normal_side"] == "C"
    assert (body["from"], body["to"]) == ("2026-03-01", "2026-03-31")
    assert body["opening_balance"] == "0.00" and body["movements_count"] == 5
    assert [(i["side"], i["debit"], i["credit"]) for i in body["items"]] == [
        ("C", "0.00", "10000.00"),
        ("D", "6000.00", "0.00"),
        ("C", "0.00", "333.33"),
        ("C", "0.00", "1000.00"),
        ("D", "4333.33", "0.00"),
    ]
    balance = Decimal(body["opening_balance"])
    for item in body["items"]:
        balance += Decimal(item["credit"]) - Decimal(item["debit"])  # credit-normal
        assert Decimal(item["balance"]) == balance
    assert Decimal(body["closing_balance"]) == balance == Decimal("1000.00")
    assert (body["debits"], body["credits"]) == ("10333.33", "11333.33")
    assert [i["position"] for i in body["items"]] == [1, 2, 3, 4, 5]
    # the 2nd of March 00:00 in Shanghai is still the 1st in UTC: dates are Shanghai's
    dates = [i["business_date"] for i in body["items"][:3]]
    assert dates == ["2026-03-01", "2026-03-02", "2026-03-02"]
    current = client.get(f"/api/v1/ledger/accounts/{PAYABLE}", headers=headers["h1"]).json()
    assert current["balance"] == body["closing_balance"]


def test_a_range_opens_where_the_previous_one_closed(client: TestClient, session: Session) -> None:
    headers = _setup(session)
    before = _get(client, headers["h1"], **{"from": "2026-03-01", "to": "2026-03-02"}).json()
    after = _get(client, headers["h1"], **{"from": "2026-03-03", "to": "2026-03-31"}).json()
    assert before["closing_balance"] == after["opening_balance"] == "4333.33"
    assert before["movements_count"] == 3 and after["movements_count"] == 2
    assert after["items"][0]["balance"] == "5333.33"
    assert after["closing_balance"] == "1000.00"
    empty = _get(client, headers["h1"], **{"from": "2026-04-01", "to": "2026-04-30"}).json()
    assert empty["items"] == [] and empty["opening_balance"] == empty["closing_balance"]
    assert empty["opening_balance"] == "1000.00"


def test_pages_concatenate_to_the_whole_range(client: TestClient, session: Session) -> None:
    headers = _setup(session)
    whole = _get(client, headers["h1"], **{"from": "2026-03-01", "to": "2026-03-31"}).json()
    paged = _all_pages(client, headers["h1"], **{"from": "2026-03-01", "to": "2026-03-31"}, limit=2)
    assert paged == whole["items"]
    first = _get(client, headers["h1"], **{"from": "2026-03-01", "to": "2026-03-31", "limit": 2})
    assert len(first.json()["items"]) == 2 and first.json()["closing_balance"] == "1000.00"


def test_a_hospital_reads_only_its_own_accounts(client: TestClient, session: Session) -> None:
    headers = _setup(session)
    march = {"from": "2026-03-01", "to": "2026-03-31"}
    other = _get(client, headers["h1"], acct("payable", "H2"), **march)
    assert other.status_code == 404
    assert _get(client, headers["h1"], acct("bank"), **march).status_code == 404
    assert _get(client, headers["h1"], "not-an-account", **march).status_code == 404
    assert _get(client, headers["h1"], acct("receivable", "H1"), **march).status_code == 404
    staff = _get(client, headers["acc"], acct("payable", "H2"), **march).json()
    assert staff["closing_balance"] == "777.00" and len(staff["items"]) == 1
    assert client.get(URL.format(PAYABLE), params=march).status_code == 401


def test_bounds_are_422_naming_the_field(client: TestClient, session: Session) -> None:
    headers = _setup(session)

    def status(**params: Any) -> tuple[int, Any]:
        response = _get(client, headers["h1"], **params)
        return response.status_code, response.json()

    code, body = status(**{"from": "2026-03-02", "to": "2026-03-01"})
    assert code == 422 and body["errors"][0]["field"] == "to"
    assert body["errors"][0]["rule"] == "date_range"
    assert status(**{"from": "2026-01-01", "to": "2027-01-02"})[0] == 422  # 367 days
    assert status(**{"from": "2026-01-01", "to": "2027-01-01"})[0] == 200  # 366 days
    assert status(**{"from": "2024-01-01", "to": "2024-12-31"})[0] == 200  # a leap year
    assert status(**{"to": "2026-03-31"})[0] == 422
    assert status(**{"from": "2026-03-01", "to": "2026-03-31", "limit": 501})[0] == 422
    assert status(**{"from": "2026-03-01", "to": "2026-03-31", "cursor": "x"})[0] == 422
    assert status(**{"from": "2026-03-32", "to": "2026-04-01"})[0] == 422


def test_payments_carry_their_receipt_numbers() -> None:
    """On the world's ledger (played through the services): the instruction entries of H001's
    payable account carry the bank's receipt number, the statement closes at the balance."""
    with world_client() as world:
        with transaction(world.factory) as session:
            token = bearer(builders.user_token(session, "h1-api", "hospital", "H001"))
            receipts = dict(
                session.execute(
                    select(PaymentInstruction.instruction_id, PaymentInstruction.receipt_no).where(
                        PaymentInstruction.fixmedins_code == "H001",
                        PaymentInstruction.insutype == "310",
                    )
                ).all()
            )
        code = "payable:640100:310:H001"
        items = _all_pages(
            world.client, token, code, **{"from": "2026-03-01", "to": "2026-05-06"}, limit=7
        )
        sent = [i for i in items if i["kind"] == "instruction_sent"]
        assert len(sent) == len(receipts) == 12
        for item in sent:
            assert item["instruction_id"] == item["business_ref"].removeprefix("instruction:")
            assert item["receipt_no"] == receipts[item["instruction_id"]]
        failed = [i for i in items if i["kind"] == "instruction_failed"]
        assert len(failed) == 1 and failed[0]["receipt_no"] is None
        returned = [i for i in items if i["kind"] == "instruction_returned"]
        assert (
            len(returned) == 1
            and returned[0]["receipt_no"] == receipts[returned[0]["instruction_id"]]
        )
        accruals = [i for i in items if i["kind"] == "daily_accrual"]
        assert accruals and all(i["instruction_id"] is None for i in accruals)
        whole = _get(world.client, token, code, **{"from": "2026-03-01", "to": "2026-05-06"})
        current = world.client.get(f"/api/v1/ledger/accounts/{code}", headers=token).json()
        assert whole.json()["closing_balance"] == current["balance"] == items[-1]["balance"]
        assert date.fromisoformat(items[-1]["business_date"]) <= date(2026, 5, 6)
