"""The recipients register over HTTP (SPEC-ASSISTANCE A2, A10 "Recipients"; issue 21 item 2):
register and update one person, categories merged by (category, valid_from), the offices'
monthly imports (idempotent per source and month, new and exited persons flagged, exit ends
the category), masking of certificate numbers by role, validation naming field and rule."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.trail.models import AuditEvent
from tests.support import builders
from tests.support.builders import bearer
from tests.support.sqlcount import sql_statements

URL = "/api/v1/assistance/recipients"
IMPORTS = "/api/v1/assistance/recipient-imports"  # not under /recipients/: {psn_no} would match it
CERTNO = "640102199001011234"


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    builders.region(session)
    builders.institution(session, "H001")
    result = {
        role: bearer(
            builders.user_token(session, role, role, "H001" if role == "hospital" else None)
        )
        for role in ("operator", "accountant", "auditor", "admin", "hospital")
    }
    session.commit()
    return result


def _person(**changes: Any) -> dict[str, Any]:
    return {
        "name": "张三",
        "certno": CERTNO,
        "region_code": "640100",
        "bank_account": "6222000000000009",
        "bank_account_name": "张三",
        "bank_code": "102871000011",
        "last_year_income": "12000.00",
        **changes,
    }


def _line(psn_no: str, category: str, valid_from: str, **changes: Any) -> dict[str, Any]:
    return {
        "psn_no": psn_no,
        **_person(certno=f"64010219900101{psn_no[-4:]:0>4}"),
        "category": category,
        "valid_from": valid_from,
        **changes,
    }


def _categories(body: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(c["category"], c["valid_from"], c["valid_to"]) for c in body["categories"]]


def _error(response: Any, field: str, rule: str | None = None) -> None:
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and (rule is None or e["rule"] == rule) for e in errors), errors


def test_register_then_update_replaces_fields_and_merges_categories(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    op = headers["operator"]
    first = client.put(
        f"{URL}/P0001",
        json=_person(
            categories=[
                {"category": "dibao", "valid_from": "2026-01-01"},
                {"category": "low_income", "valid_from": "2026-01-01", "valid_to": "2026-06-30"},
            ]
        ),
        headers=op,
    )
    assert first.status_code == 201, first.text
    assert first.json()["last_year_income"] == "12000.00"
    second = client.put(
        f"{URL}/P0001",
        json=_person(
            name="张三丰",
            bank_account=None,
            bank_account_name=None,
            bank_code=None,
            last_year_income="0.00",
            categories=[
                {"category": "dibao", "valid_from": "2026-01-01", "valid_to": "2026-09-30"},
                {"category": "tekun", "valid_from": "2026-10-01"},
            ],
        ),
        headers=op,
    )
    assert second.status_code == 200, second.text
    body = client.get(f"{URL}/P0001", headers=headers["accountant"]).json()
    assert (body["name"], body["bank_account"], body["last_year_income"]) == (
        "张三丰",
        None,
        "0.00",
    )
    # same key replaced, the unlisted one stays, the new one added; A2's order
    assert _categories(body) == [
        ("tekun", "2026-10-01", None),
        ("dibao", "2026-01-01", "2026-09-30"),
        ("low_income", "2026-01-01", "2026-06-30"),
    ]
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "recipient").order_by(AuditEvent.id)
    ).all()
    assert actions == ["recipient.create", "recipient.update"]
    trail = session.scalars(select(AuditEvent).where(AuditEvent.entity == "recipient")).first()
    assert trail is not None and CERTNO not in str(trail.after)


def test_list_filters_and_pages(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    op = headers["operator"]
    for number, category, valid_to in (
        ("P0001", "dibao", None),
        ("P0002", "tekun", "2026-02-28"),
        ("P0003", "dibao", "2026-02-28"),
    ):
        response = client.put(
            f"{URL}/{number}",
            json=_person(
                categories=[
                    {"category": category, "valid_from": "2026-01-01", "valid_to": valid_to}
                ]
            ),
            headers=op,
        )
        assert response.status_code == 201, response.text
    first = client.get(URL, params={"limit": 2}, headers=op).json()
    assert [r["psn_no"] for r in first["items"]] == ["P0001", "P0002"]
    rest = client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=op).json()
    assert [r["psn_no"] for r in rest["items"]] == ["P0003"] and rest["next_cursor"] is None
    dibao = client.get(URL, params={"category": "dibao"}, headers=op).json()
    assert [r["psn_no"] for r in dibao["items"]] == ["P0001", "P0003"]
    march = client.get(URL, params={"category": "dibao", "on": "2026-03-01"}, headers=op).json()
    assert [r["psn_no"] for r in march["items"]] == ["P0001"]
    _error(client.get(URL, params={"category": "rich"}, headers=op), "category")
    _error(client.get(URL, params={"limit": 501}, headers=op), "limit")


def test_certificate_numbers_masked_for_all_but_admin(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    assert (
        client.put(f"{URL}/P0001", json=_person(), headers=headers["operator"]).status_code == 201
    )
    for role in ("operator", "accountant", "auditor"):
        shown = client.get(f"{URL}/P0001", headers=headers[role]).json()
        assert shown["certno"] == "6401**********1234", role
        listed = client.get(URL, headers=headers[role]).json()["items"][0]
        assert listed["certno"] == "6401**********1234", role
    assert client.get(f"{URL}/P0001", headers=headers["admin"]).json()["certno"] == CERTNO
    assert client.get(URL, headers=headers["admin"]).json()["items"][0]["certno"] == CERTNO
    put = client.put(f"{URL}/P0001", json=_person(), headers=headers["operator"]).json()
    assert put["certno"] == "6401**********1234"
    # hospitals never read the register
    assert client.get(f"{URL}/P0001", headers=headers["hospital"]).status_code == 403
    assert client.get(URL, headers=headers["hospital"]).status_code == 403
    assert client.get(f"{URL}/P9999", headers=headers["operator"]).status_code == 404


def test_validation_names_the_field(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    op = headers["operator"]
    _error(client.put(f"{URL}/P0001", json=_person(certno="64-01"), headers=op), "certno")
    _error(
        client.put(f"{URL}/P0001", json=_person(region_code="999999"), headers=op),
        "region_code",
        "region_exists",
    )
    _error(
        client.put(f"{URL}/P0001", json=_person(last_year_income="-1.00"), headers=op),
        "last_year_income",
    )
    _error(
        client.put(f"{URL}/P0001", json=_person(last_year_income="1.001"), headers=op),
        "last_year_income",
    )
    backwards = [{"category": "dibao", "valid_from": "2026-02-01", "valid_to": "2026-01-31"}]
    _error(
        client.put(f"{URL}/P0001", json=_person(categories=backwards), headers=op),
        "categories.0.valid_to",
        "valid_to_before_from",
    )
    unknown = [{"category": "rich", "valid_from": "2026-02-01"}]
    _error(
        client.put(f"{URL}/P0001", json=_person(categories=unknown), headers=op),
        "categories.0.category",
    )
    _error(client.put(f"{URL}/P0001", json=_person(extra="x"), headers=op), "extra")
    bad_month = {"source": "poverty", "month": "2026-13", "items": []}
    _error(client.post(IMPORTS, json=bad_month, headers=op), "month")
    bad_source = {"source": "tax", "month": "2026-03", "items": []}
    _error(client.post(IMPORTS, json=bad_source, headers=op), "source")
    line = _line("P0001", "dibao", "2026-03-01", region_code="999999")
    nowhere = {"source": "poverty", "month": "2026-03", "items": [line]}
    _error(
        client.post(IMPORTS, json=nowhere, headers=op),
        "items.0.region_code",
        "region_exists",
    )
    assert client.get(URL, headers=op).json()["items"] == []  # nothing of a refused list


def test_monthly_import_is_idempotent_and_flags_new_and_exited(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    op = headers["operator"]
    assert (
        client.put(
            f"{URL}/P0001",
            json=_person(categories=[{"category": "dibao", "valid_from": "2026-01-01"}]),
            headers=op,
        ).status_code
        == 201
    )
    march = {
        "source": "civil_affairs",
        "month": "2026-03",
        "items": [
            _line("P0002", "dibao", "2026-03-01"),
            _line("P0002", "low_income", "2026-03-01"),
            _line("P0001", "dibao", "2026-01-01", exited_on="2026-03-15"),
            _line("P0003", "tekun", "2026-03-01"),
        ],
    }
    imported = client.post(IMPORTS, json=march, headers=op)
    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert [(line["psn_no"], line["flag"]) for line in body["lines"]] == [
        ("P0002", "new"),
        ("P0002", "new"),
        ("P0001", "exited"),
        ("P0003", "new"),
    ]
    assert (body["items"], body["new"], body["updated"], body["exited"]) == (4, 3, 0, 1)
    ended = client.get(f"{URL}/P0001", headers=op).json()
    assert _categories(ended) == [("dibao", "2026-01-01", "2026-03-15")]
    assert _categories(client.get(f"{URL}/P0002", headers=op).json()) == [
        ("dibao", "2026-03-01", None),
        ("low_income", "2026-03-01", None),
    ]
    replay = client.post(IMPORTS, json=march, headers=op)
    assert replay.status_code == 200 and replay.json() == body
    other = {**march, "items": march["items"][:2]}
    conflict = client.post(IMPORTS, json=other, headers=op)
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["status"] == 409
    # another source, same month: its own list; a person seen before is updated, not new
    poverty = {
        "source": "poverty",
        "month": "2026-03",
        "items": [_line("P0003", "poverty_registered", "2026-03-01")],
    }
    second = client.post(IMPORTS, json=poverty, headers=op).json()
    assert [(line["psn_no"], line["flag"]) for line in second["lines"]] == [("P0003", "updated")]
    assert _categories(client.get(f"{URL}/P0003", headers=op).json()) == [
        ("tekun", "2026-03-01", None),
        ("poverty_registered", "2026-03-01", None),
    ]
    imports = session.scalars(
        select(AuditEvent.entity_key).where(AuditEvent.action == "recipient.import")
    ).all()
    assert imports == ["civil_affairs:2026-03", "poverty:2026-03"]


def test_an_exit_never_lengthens_a_holding_that_ended_earlier(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    op = headers["operator"]
    held = {"category": "dibao", "valid_from": "2026-01-01", "valid_to": "2026-02-28"}
    assert (
        client.put(f"{URL}/P0001", json=_person(categories=[held]), headers=op).status_code == 201
    )
    april = {
        "source": "civil_affairs",
        "month": "2026-04",
        "items": [
            _line("P0001", "dibao", "2026-01-01", exited_on="2026-03-31"),
            _line("P0002", "tekun", "2026-02-01", exited_on="2026-03-31"),
        ],
    }
    imported = client.post(IMPORTS, json=april, headers=op)
    assert imported.status_code == 201, imported.text
    assert _categories(client.get(f"{URL}/P0001", headers=op).json()) == [
        ("dibao", "2026-01-01", "2026-02-28")
    ]
    # one not held before is recorded, ended on the exit day
    assert _categories(client.get(f"{URL}/P0002", headers=op).json()) == [
        ("tekun", "2026-02-01", "2026-03-31")
    ]


def test_a_person_on_many_lines_is_read_once(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    """A list naming one person on many lines (one per category, or repeated) reads the person
    and the holdings once, and writes holdings only when a line changes them: the same
    number of statements for 4 lines as for 400 (schemathesis sent 20,000 lines of one
    person and the import outlasted the request on PostgreSQL)."""
    engine = session.get_bind()

    def run(month: str, count: int) -> int:
        statements: list[str] = []

        def note(*args: Any) -> None:
            statements.append(args[2])

        items = [_line("P0009", ("dibao", "tekun")[i % 2], "2026-03-01") for i in range(count)]
        event.listen(engine, "before_cursor_execute", note)
        try:
            response = client.post(
                IMPORTS,
                json={"source": "poverty", "month": month, "items": items},
                headers=headers["operator"],
            )
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert response.status_code == 201, response.text
        assert {line["flag"] for line in response.json()["lines"]} == {
            "updated"
        } or month == "2026-03"
        return len(statements)

    few = run("2026-03", 4)
    many = run("2026-04", 400)
    assert many <= few
    shown = client.get(f"{URL}/P0009", headers=headers["operator"]).json()
    assert sorted(_categories(shown)) == [
        ("dibao", "2026-03-01", None),
        ("tekun", "2026-03-01", None),
    ]


def test_an_import_is_set_based_whatever_the_persons(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    """An import of many distinct persons, new or known, sends the same statements as one of
    a few: the persons read at once, the new ones and their holdings inserted at once."""

    def run(month: str, persons: list[str], exit_first: bool = False) -> tuple[int, list]:
        items = [_line(p, "dibao", "2026-03-01") for p in persons]
        items += [_line(p, "tekun", "2026-03-01") for p in persons]
        if exit_first:
            items[0]["exited_on"] = f"{month}-20"
        with sql_statements(session) as seen:
            response = client.post(
                IMPORTS,
                json={"source": "poverty", "month": month, "items": items},
                headers=headers["operator"],
            )
        assert response.status_code == 201, response.text
        return len(seen), [line["flag"] for line in response.json()["lines"]]

    few = [f"Q{n:04d}" for n in range(3)]
    many = [f"R{n:04d}" for n in range(30)]
    new_few, flags = run("2026-03", few)
    assert flags == ["new"] * 6
    new_many, flags = run("2026-04", many)
    assert flags == ["new"] * 60 and new_many == new_few
    known_few, flags = run("2026-05", few, exit_first=True)
    assert flags == ["exited"] + ["updated"] * 5
    known_many, flags = run("2026-06", many, exit_first=True)
    assert flags == ["exited"] + ["updated"] * 59 and known_many == known_few
    shown = client.get(f"{URL}/R0000", headers=headers["operator"]).json()
    assert _categories(shown) == [
        ("tekun", "2026-03-01", None),
        ("dibao", "2026-03-01", "2026-06-20"),
    ]
    assert _categories(client.get(f"{URL}/R0029", headers=headers["operator"]).json()) == [
        ("tekun", "2026-03-01", None),
        ("dibao", "2026-03-01", None),
    ]
