"""The accountant's 收款账户变更 page (issue 19): pending changes with both accounts, approved
or rejected by an accountant (the requester is an operator or admin: never the checker);
the auditor reads without a control; a hospital is refused."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.institutions import payees
from app.institutions import service as institutions
from app.institutions.models import Institution
from tests.support import builders
from tests.support.console import csrf_of, log_in, person

NOW = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
PAGE = "/console/fund/payees"


def _world(session: Session) -> tuple[int, int]:
    builders.institution(session, "H001", name="宁夏测试医院")
    builders.institution(session, "H002", name="另一家医院")
    for name, role, code in (
        ("acc", "accountant", None),
        ("aud", "auditor", None),
        ("h1", "hospital", "H001"),
    ):
        person(session, name, role, code)
    op = Principal(None, "op", "operator")
    first = payees.request_change(
        session, "H001", {"bank_account": "6222000000000777"}, "换户", actor=op, now=NOW
    )
    second = payees.request_change(
        session, "H002", {"bank_account_name": "另一家医院（新户）"}, "更名", actor=op, now=NOW
    )
    session.commit()
    return first.id, second.id


def _post(client: TestClient, path: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(PAGE).text)
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def test_an_accountant_approves_and_rejects(client: TestClient, session: Session) -> None:
    first, second = _world(session)
    log_in(client, "acc")
    shown = client.get(PAGE)
    assert shown.status_code == 200
    assert (
        "6222000000000777" in shown.text
        and "复核通过" in shown.text
        and "宁夏测试医院" in shown.text
    )
    approved = _post(client, f"/console/fund/payees/H001/{first}/approve")
    assert approved.status_code == 303 and approved.headers["location"] == f"{PAGE}?ok=approved"
    session.expire_all()
    institution = session.get(Institution, "H001")
    assert institution is not None and institution.bank_account == "6222000000000777"
    again = _post(client, f"/console/fund/payees/H001/{first}/reject", {"note": "x"})
    assert again.status_code == 409 and "已不在待复核状态" in again.text
    empty = _post(client, f"/console/fund/payees/H002/{second}/reject", {"note": " "})
    assert empty.status_code == 422 and "请填写驳回原因" in empty.text
    rejected = _post(client, f"/console/fund/payees/H002/{second}/reject", {"note": "无开户证明"})
    assert rejected.status_code == 303
    page = client.get(rejected.headers["location"]).text
    assert "已驳回，收款账户不变" in page and "无开户证明" in page and "没有待复核" in page
    assert institutions.get_institution(session, "H002").bank_account_name == "另一家医院"


def test_readers_without_controls_and_a_hospital_refused(
    client: TestClient, session: Session
) -> None:
    _world(session)
    log_in(client, "aud")
    shown = client.get(PAGE)
    assert shown.status_code == 200 and "6222000000000777" in shown.text
    assert "复核通过" not in shown.text
    client.post("/console/logout", data={"csrf_token": csrf_of(shown.text)})
    log_in(client, "h1")
    assert client.get(PAGE).status_code == 403


def test_the_hospital_sees_its_payee_changes_on_its_account_page(
    client: TestClient, session: Session
) -> None:
    _world(session)
    log_in(client, "h1")
    page = client.get("/console/hospital/account")
    assert page.status_code == 200
    section = page.text[page.text.index('id="payee-changes"') :]
    assert "6222000000000777" in section and "待复核" in section
    assert "另一家医院（新户）" not in section  # another institution's change
