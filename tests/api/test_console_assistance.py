"""The medical-assistance pages over HTTP (issue 22 "Done when"; issue 21's assistance
statements): the case worker's 救助对象 (search, masked certificate numbers, the person-year,
告知已送达), the accountant's 救助支付审批 (approve, reject with a reason, maker–checker said
in Chinese) and assistance statements in the approval queue, the hospital's 救助结算单
(its own only, confirm, documents) and no person data for a hospital."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import applications
from app.assistance.person_models import PersonClaim, PersonPayment
from app.assistance.person_schemas import ApplicationIn
from app.assistance.statement_models import AssistanceDocument, AssistanceStatement
from app.auth.principal import Principal
from tests.support import assistance_console
from tests.support.assistance_console import APPLICATION, CLAIM, PERSON
from tests.support.console import csrf_of, log_in, person

PERSON_PAGE = f"/console/assistance/persons/{PERSON}"


@pytest.fixture
def ids(session: Session) -> dict[str, int]:
    found = assistance_console.seed(session)
    person(session, "h2", "hospital", "H002")
    session.commit()
    return found


def _as(app: FastAPI, name: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    assert log_in(client, name).status_code == 303
    return client


def _post(client: TestClient, url: str, data: dict[str, Any] | None = None) -> Any:
    csrf = csrf_of(client.get("/console/").text)
    return client.post(url, data={"csrf_token": csrf, **(data or {})}, follow_redirects=False)


def _status(session: Session, model: Any, row_id: int) -> str:
    session.expire_all()
    return str(session.scalars(select(model.status).where(model.id == row_id)).one())


def test_a_case_worker_finds_a_person_and_reads_the_year(app: FastAPI, ids: dict) -> None:
    op = _as(app, "op")
    found = op.get("/console/assistance/persons", params={"q": "王救"})
    assert found.status_code == 200
    assert PERSON in found.text and "640100000002" not in found.text
    assert "6401**********1234" in found.text and "640102198001011234" not in found.text
    assert PERSON in op.get("/console/assistance/persons", params={"q": "6401000000"}).text
    by_category = op.get("/console/assistance/persons", params={"category": "tekun"})
    assert "没有符合条件的救助对象" in by_category.text
    bad = op.get("/console/assistance/persons", params={"category": "nobody"})
    assert bad.status_code == 422 and "救助类别" in bad.text
    page = op.get(PERSON_PAGE, params={"year": 2026})
    assert page.status_code == 200
    text = page.text
    # A1 at H001: base 30,000 − 18,000 − 2,000 = 10,000.00 × 80 % = 8,000.00 (dibao);
    # A9 at H002 the same; the application's invoice: 1,000.00 × 60 % = 600.00
    assert "低保对象" in text and "机构 H001" in text and "发票 F-0001" in text
    assert "¥16,600.00" in text  # due
    assert "¥9,100.00" in text  # granted: 8,000 + 500 advanced, 600 applied for
    assert "¥7,500.00" in text  # difference
    assert APPLICATION in text and CLAIM in text and "告知已送达" in text
    assert f"/console/assistance/clearings/{CLAIM}/notice" in text  # its 事前告知书
    empty = op.get(PERSON_PAGE, params={"year": 2025})
    assert empty.status_code == 200 and "本年度没有救助费用记录" in empty.text
    printed = op.get(f"{PERSON_PAGE}/years/2026/print")
    assert printed.status_code == 200 and "医疗救助年度明细表" in printed.text
    assert "人民币壹万陆仟陆佰元整" in printed.text
    assert op.get("/console/assistance/persons/NOBODY").status_code == 404
    assert op.get(PERSON_PAGE, params={"year": 1999}).status_code == 422


def test_an_admin_reads_the_full_certificate_number(app: FastAPI, ids: dict) -> None:
    page = _as(app, "adm").get(PERSON_PAGE)
    assert page.status_code == 200 and "640102198001011234" in page.text


def test_the_case_worker_marks_the_notice_delivered(
    app: FastAPI, ids: dict, session: Session
) -> None:
    url = f"/console/assistance/claims/{CLAIM}/notice-delivered"
    assert _post(_as(app, "aud"), url).status_code == 403
    assert "告知已送达" not in _as(app, "aud").get(PERSON_PAGE).text  # no write control
    op = _as(app, "op")
    done = _post(op, url, {"back": f"{PERSON_PAGE}?year=2026"})
    assert done.status_code == 303
    assert done.headers["location"] == f"{PERSON_PAGE}?year=2026&ok=notice_delivered"
    claim = session.scalars(select(PersonClaim).where(PersonClaim.reference == CLAIM)).one()
    session.refresh(claim)
    assert claim.notice_delivered_at is not None and claim.notice_delivered_by == "op"
    page = op.get(done.headers["location"])
    assert "已登记事前告知书送达" in page.text and "告知已送达</button>" not in page.text
    assert _post(op, "/console/assistance/claims/CL404/notice-delivered").status_code == 404


def test_a_hospital_sees_no_person_and_only_its_own_statements(app: FastAPI, ids: dict) -> None:
    h1 = _as(app, "h1")
    for url in (
        "/console/assistance/persons",
        PERSON_PAGE,
        f"{PERSON_PAGE}/years/2026/print",
        "/console/fund/assistance/payments",
        f"/console/fund/assistance-statements/{ids['own']}",
    ):
        assert h1.get(url).status_code == 403, url
    assert _post(h1, f"/console/assistance/claims/{CLAIM}/notice-delivered").status_code == 403
    listing = h1.get("/console/hospital/assistance-statements")
    assert listing.status_code == 200 and "救助结算单" in listing.text
    assert f"/console/hospital/assistance-statements/{ids['other']}" not in listing.text
    assert "A9" not in listing.text  # H002's settlement waiting for documents
    own = h1.get(f"/console/hospital/assistance-statements/{ids['own']}")
    assert own.status_code == 200 and "¥8,000.00" in own.text and "A1" in own.text
    assert h1.get(f"/console/hospital/assistance-statements/{ids['other']}").status_code == 404
    confirm = f"/console/hospital/assistance-statements/{ids['other']}/confirm"
    assert _post(h1, confirm).status_code == 404
    # another institution's settlement cannot have its documents recorded
    refused = _post(h1, "/console/hospital/assistance-documents", {"setl_id": "A9",
                    "document": "diagnosis"})  # fmt: skip
    assert refused.status_code == 404
    for role in ("op", "acc"):
        url = f"/console/hospital/assistance-statements/{ids['own']}"
        assert _as(app, role).get(url).status_code == 403


def test_a_hospital_records_documents_and_confirms(
    app: FastAPI, ids: dict, session: Session
) -> None:
    h2 = _as(app, "h2")
    other = f"/console/hospital/assistance-statements/{ids['other']}"
    page = h2.get(other)
    assert page.status_code == 200 and "A9" in page.text and "未登记" in page.text
    done = _post(
        h2,
        "/console/hospital/assistance-documents",
        {"setl_id": "A9", "document": ["diagnosis", "advance_form"], "back": other},
    )
    assert done.status_code == 303 and done.headers["location"].startswith(other)
    recorded = session.scalars(select(AssistanceDocument.document)).all()
    assert sorted(recorded).count("diagnosis") == 2 and "advance_form" in recorded
    confirmed = _post(h2, f"{other}/confirm", {"reference": "QR-01"})
    assert confirmed.status_code == 303
    assert _status(session, AssistanceStatement, ids["other"]) == "CONFIRMED"
    again = _post(h2, f"{other}/dispute", {"reason": "金额有误"})
    assert again.status_code == 409 and "状态已变化" in again.text


def test_an_accountant_approves_an_assistance_statement_from_the_queue(
    app: FastAPI, ids: dict, session: Session
) -> None:
    h1 = _as(app, "h1")
    own = f"/console/hospital/assistance-statements/{ids['own']}"
    assert _post(h1, f"{own}/confirm").status_code == 303
    acc = _as(app, "acc")
    queue = acc.get("/console/fund/queue", params={"kind": "assistance_statement"})
    assert queue.status_code == 200 and "救助结算单" in queue.text and "医疗救助" in queue.text
    document = acc.get(f"/console/fund/assistance-statements/{ids['own']}")
    assert document.status_code == 200 and "本期救助垫付" in document.text
    approved = _post(
        acc,
        "/console/fund/approve",
        {"document": "assistance_statement", "doc_id": ids["own"], "back": "/console/fund/queue"},
    )
    assert approved.status_code == 303
    assert _status(session, AssistanceStatement, ids["own"]) == "APPROVED"
    after = acc.get(approved.headers["location"])
    assert "已审批：救助结算单 2026年3月" in after.text


def test_an_accountant_approves_and_rejects_person_payments(
    app: FastAPI, ids: dict, session: Session
) -> None:
    acc = _as(app, "acc")
    page = acc.get("/console/fund/assistance/payments")
    assert page.status_code == 200 and APPLICATION in page.text and "王救助" in page.text
    queue = acc.get("/console/fund/queue", params={"kind": "person_payment"}).text
    assert "救助金支付" in queue and f"人员 {PERSON}" in queue and "支付给个人" in queue
    assert "2026-04-02（周四） 09:00" in queue  # the auto-approval: 09:00 the next working day
    assert "¥600.00" in queue
    blank = _post(acc, f"/console/fund/assistance/payments/{ids['payment']}/reject")
    assert blank.status_code == 422 and "请填写驳回原因" in blank.text
    approved = _post(
        acc,
        "/console/fund/approve",
        {"document": "person_payment", "doc_id": ids["payment"], "back": "/console/fund/assistance/payments"},
    )  # fmt: skip
    assert approved.status_code == 303
    assert _status(session, PersonPayment, ids["payment"]) == "NOT_SENT"
    assert "已审批：救助金将随下一次提交" in acc.get(approved.headers["location"]).text
    late = _post(
        acc, f"/console/fund/assistance/payments/{ids['payment']}/reject", {"reason": "重复申请"}
    )
    assert late.status_code == 409 and "已不在待审批状态" in late.text
    assert _as(app, "aud").get("/console/fund/assistance/payments").status_code == 200
    assert "审批通过" not in _as(app, "aud").get("/console/fund/assistance/payments").text


def test_the_maker_of_a_payment_cannot_approve_or_reject_it(
    app: FastAPI, ids: dict, session: Session
) -> None:
    invoice = {
        "invoice_no": "F-0002",
        "visit": "outpatient",
        "date": "2026-03-21",
        "medfee_sumamt": "100.00",
        "inscp_scp_amt": "100.00",
    }
    body = {"reference": "APP-ACC", "psn_no": PERSON, "invoices": [invoice]}
    maker = Principal(user_id=None, name="acc", role="accountant")
    payment, _ = applications.record_application(
        session, ApplicationIn.model_validate(body), actor=maker, now=assistance_console.SEEDED
    )
    session.commit()
    acc = _as(app, "acc")
    page = acc.get("/console/fund/assistance/payments")
    assert "不能由您审批或驳回" in page.text and "disabled" in page.text
    forced = _post(
        acc, "/console/fund/approve", {"document": "person_payment", "doc_id": payment.id}
    )
    assert forced.status_code == 403 and "不能由您审批或驳回" in forced.text
    rejected = _post(
        acc, f"/console/fund/assistance/payments/{payment.id}/reject", {"reason": "重复"}
    )
    assert rejected.status_code == 403 and "不能由您审批或驳回" in rejected.text
    assert _status(session, PersonPayment, payment.id) == "PENDING_APPROVAL"
