"""The case worker's clearing pages over HTTP (issue 22 "Done when": a list of suggestions with
one-click clearing, the notice to print): each write goes through the clearing services and
comes back as a redirect whose outcome is read from the database; staff read, only operators
write, hospitals are refused, a POST without the CSRF token changes nothing."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assistance import suggestions
from app.assistance.clearing_models import AssistanceClearing
from app.assistance.person_models import PersonClaim
from app.clock import SimulatedClock
from app.console.office.assistance_actions import batch_prefix, one_reference
from app.trail.models import AuditEvent
from tests.support.assistance import settle
from tests.support.clearing import at, clearing_world, figures
from tests.support.console import csrf_of, log_in, person

PAGE = "/console/assistance/clearing-suggestions"
CLEAR = f"{PAGE}/clear"
CLEAR_ALL = f"{PAGE}/clear-all"
ONE = "RT-20260521-P1-2026"


def notice_url(reference: str) -> str:
    return f"/console/assistance/clearings/{reference}/notice"


@pytest.fixture
def suggested(client: TestClient, session: Session, clock: SimulatedClock) -> None:
    """P1 was granted 9,000.00 on a due of 8,000.00 (-1,000.00), P2 is owed 800.00; the 06:00
    job of 2026-05-21 suggested both; case workers log in at 10:00."""
    h = clearing_world(client, session)
    at(clock, "2026-03-10T10:05")
    settle(client, h, "S1", "2026-03-10", inscp="30000.00", hifp="18000.00",
           hifmi="2000.00", maf="9000.00")  # fmt: skip
    at(clock, "2026-05-20T10:05")
    settle(client, h, "S3", "2026-05-20", inscp="1000.00", hifp="0.00", psn_no="P2")
    assert figures(session) == ("8000.00", "9000.00", "-1000.00")
    at(clock, "2026-05-21T06:00")
    suggestions.refresh(session, "640100", now=clock.now())
    for name, role, code in (
        ("cw", "operator", None),
        ("aud9", "auditor", None),
        ("acc9", "accountant", None),
        ("hos", "hospital", "H001"),
    ):
        person(session, name, role, code)
    session.commit()
    at(clock, "2026-05-21T10:00")


def _post(client: TestClient, url: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_of(client.get("/console/").text)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def _text(response: httpx.Response) -> str:
    """The page's text without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", response.text))


def _clearings(session: Session) -> list[tuple[str, int, str | None]]:
    session.expire_all()
    rows = session.scalars(select(AssistanceClearing).order_by(AssistanceClearing.id))
    return [(row.reference, row.difference_fen, row.resolution) for row in rows]


@pytest.mark.usefixtures("suggested")
def test_one_click_clearing_then_the_notice_is_printed_and_delivered(
    client: TestClient, session: Session
) -> None:
    log_in(client, "cw")
    listed = client.get(PAGE)
    assert listed.status_code == 200
    text = _text(listed)
    assert "救助清算" in text  # the operator's navigation entry
    for shown in ("P1", "张某", "-¥1,000.00", "¥800.00", ONE, "全部清算", "现金追款"):
        assert shown in text, shown

    token = csrf_of(listed.text)
    without = client.post(CLEAR, data={"psn_no": "P1", "year": "2026"}, follow_redirects=False)
    forged = client.post(
        CLEAR, data={"csrf_token": token[:-2] + "xx", "psn_no": "P1", "year": "2026"}
    )
    assert (without.status_code, forged.status_code) == (403, 403)
    assert _clearings(session) == []

    cleared = _post(client, CLEAR, {"psn_no": "P1", "year": "2026", "resolution": "cash"})
    assert cleared.status_code == 303
    assert cleared.headers["location"] == f"{PAGE}?ref={ONE}"
    assert _clearings(session) == [(ONE, -100_000, "cash")]
    back = client.get(cleared.headers["location"])
    outcome = _text(back)
    assert "已清算" in outcome and f'href="{notice_url(ONE)}"' in back.text
    assert "-¥1,000.00" in outcome and "现金追款" in outcome

    again = _post(client, CLEAR, {"psn_no": "P1", "year": "2026", "resolution": "cash"})
    assert again.headers["location"] == f"{PAGE}?ref={ONE}&again=1"
    assert "未重复清算" in _text(client.get(again.headers["location"]))
    other = _post(client, CLEAR, {"psn_no": "P1", "year": "2026", "resolution": "next_period"})
    refused = _text(client.get(other.headers["location"]))
    assert "未清算" in refused and "追回方式不同" in refused
    zero = _post(client, CLEAR, {"psn_no": "P1", "year": "2025"})
    assert "无需清算" in _text(client.get(zero.headers["location"]))
    nobody = _post(client, CLEAR, {"psn_no": "NOBODY", "year": "2026"})
    assert "没有该人员" in _text(client.get(nobody.headers["location"]))
    bad = _post(client, CLEAR, {"psn_no": "P1", "year": "2026", "resolution": "gift"})
    assert "未清算" in _text(client.get(bad.headers["location"]))
    assert _clearings(session) == [(ONE, -100_000, "cash")]

    notice = client.get(notice_url(ONE))
    assert notice.status_code == 200
    text = _text(notice)
    for shown in (
        "医疗救助个人清算事前告知书",
        "张某",
        "6401**********1234",  # masked
        "640100",
        "2026年度",
        "¥8,000.00",  # due
        "¥9,000.00",  # granted
        "¥1,000.00",  # owed
        "壹仟元整",
        "现金追款",
        "1000.00 元以现金退还",
        "签名",
        "经办人签名",
        "标记已送达",
        "尚未送达",
        "尚未追回：¥1,000.00",
    ):
        assert shown in text, shown
    assert "640102198001011234" not in text

    delivered = _post(client, f"/console/assistance/clearings/{ONE}/notice-delivered", {})
    assert delivered.status_code == 303
    assert delivered.headers["location"] == f"{notice_url(ONE)}?ok=delivered"
    session.expire_all()
    claim = session.scalar(select(PersonClaim).where(PersonClaim.reference == ONE))
    assert claim is not None and claim.notice_delivered_by == "cw"
    trail = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "person_claim.notice_delivered", AuditEvent.entity_key == ONE)
    )
    assert trail == 1
    after = _text(client.get(delivered.headers["location"]))
    assert "已送达" in after and "标记已送达" not in after and "2026-05-21" in after


@pytest.mark.usefixtures("suggested")
def test_clear_all_of_a_region_then_the_empty_list(client: TestClient, session: Session) -> None:
    log_in(client, "cw")
    done = _post(client, CLEAR_ALL, {"region": "640100", "back_region": "640100"})
    assert done.status_code == 303
    assert done.headers["location"] == (
        f"{PAGE}?region=640100&batch=RT-20260521&cleared=2&skipped=0"
    )
    assert _clearings(session) == [
        ("RT-20260521:P1:2026", -100_000, "next_period"),
        ("RT-20260521:P2:2026", 80_000, None),
    ]
    back = client.get(done.headers["location"])
    shown = _text(back)
    assert "已清算 2 人次" in shown and "暂无清算提示" in shown
    assert f'href="{notice_url("RT-20260521:P1:2026")}"' in back.text  # the negative one's
    assert "待会计审批" in shown  # the top-up
    assert "下期抵扣" in _text(client.get(notice_url("RT-20260521:P1:2026")))
    # a positive result has no notice
    assert client.get(notice_url("RT-20260521:P2:2026")).status_code == 404
    # nothing is left: the second click clears nothing
    again = _post(client, CLEAR_ALL, {"region": "640100"})
    assert "cleared=0" in again.headers["location"]
    assert len(_clearings(session)) == 2


@pytest.mark.usefixtures("suggested")
def test_staff_read_only_operators_write_hospitals_are_refused(
    client: TestClient, session: Session
) -> None:
    log_in(client, "cw")
    _post(client, CLEAR, {"psn_no": "P1", "year": "2026"})
    for reader in ("aud9", "acc9"):
        log_in(client, reader)
        listed = client.get(f"{PAGE}?region=640100")
        assert listed.status_code == 200
        assert (
            "¥800.00" in _text(listed)
            and 'method="post" action="/console/assistance' not in listed.text
        )
        notice = client.get(notice_url(ONE))
        assert notice.status_code == 200 and "标记已送达" not in notice.text
        assert _post(client, CLEAR, {"psn_no": "P2", "year": "2026"}).status_code == 403
        assert _post(client, CLEAR_ALL, {"region": "640100"}).status_code == 403
        refused = _post(client, f"/console/assistance/clearings/{ONE}/notice-delivered", {})
        assert refused.status_code == 403
    assert _clearings(session) == [(ONE, -100_000, "next_period")]
    session.expire_all()
    assert session.scalar(select(PersonClaim.notice_delivered_at)) is None
    log_in(client, "hos")
    assert client.get(PAGE).status_code == 403
    assert client.get(notice_url(ONE)).status_code == 403
    log_in(client, "cw")
    assert client.get(f"{PAGE}?region=999999").status_code == 422
    assert client.get(notice_url("NO-SUCH")).status_code == 404
    assert client.get(notice_url("bad ref!")).status_code in (404, 422)


def test_the_business_date_of_the_reference() -> None:
    late = datetime(2026, 5, 21, 16, 30, tzinfo=UTC)  # 00:30 on the 22nd in Shanghai
    assert one_reference(late, "P1", 2026) == "RT-20260522-P1-2026"
    assert batch_prefix(late) == "RT-20260522"
    long = one_reference(late, "X" * 30, 2026)
    assert len(long) <= 40 and long.startswith("RT-20260522-") and long.endswith("-2026")
    assert date(2026, 5, 22).strftime("%Y%m%d") in long
