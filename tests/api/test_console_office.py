"""The office pages over HTTP: each write lands through the domain service (rows, ledger, trail)
or is refused in Chinese with nothing written; reads show what the services hold."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.alerts.models import Alert
from app.annual.models import Assessment
from app.auth.models import ApiToken, User
from app.ledger import service as ledger
from app.ledger.search import balances_page
from app.monthly.models import AuditItem, ProcurementAdvance
from app.scheduling.models import JobRun
from app.settlements.models import Settlement
from app.trail.models import AuditEvent
from app.workdays import service as workdays
from tests.support.console import csrf_of, log_in
from tests.support.office import World, world


def _post(
    client: TestClient, url: str, data: dict[str, str], page: str = "/console/"
) -> httpx.Response:
    token = csrf_of(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def _trail(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_calendar_override_remove_and_confirm(client: TestClient, session: Session) -> None:
    world(session)
    log_in(client, "op")
    page = client.get("/console/calendar", follow_redirects=True)
    assert page.status_code == 200 and "2026 年工作日历" in page.text and "未确认" in page.text
    assert page.text.count('class="cal-month"') == 12
    done = _post(
        client,
        "/console/calendar/2026/overrides",
        {"day": "2026-03-16", "working": "0", "note": "暴雪停工"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/console/calendar/2026?day=2026-03-16&ok=override"
    session.expire_all()
    assert not workdays.load(session).is_working(date(2026, 3, 16))
    [event] = _trail(session, "calendar.override")
    assert (event.actor, event.entity_key, event.after) == (
        "op",
        "2026-03-16",
        {"working": False, "note": "暴雪停工"},
    )
    shown = client.get("/console/calendar/2026?day=2026-03-16&ok=override").text
    assert "已保存该日期的工作日设置" in shown and "暴雪停工" in shown and "恢复官方安排" in shown
    bad = _post(client, "/console/calendar/2026/overrides", {"day": "2026-02-30", "working": "1"})
    assert bad.status_code == 422 and "日期：请按“2026-09-01”的格式填写日期" in bad.text
    removed = _post(client, "/console/calendar/2026/overrides/remove", {"day": "2026-03-16"})
    assert removed.status_code == 303
    session.expire_all()
    assert workdays.load(session).is_working(date(2026, 3, 16))
    again = _post(client, "/console/calendar/2026/overrides/remove", {"day": "2026-03-16"})
    assert again.status_code == 422 and "该日期没有人工设置" in again.text
    confirmed = _post(client, "/console/calendar/2026/confirm", {})
    assert confirmed.status_code == 303
    assert workdays.is_confirmed(session, 2026)
    page = client.get("/console/calendar/2026").text
    assert "已确认" in page and "确认 2026 年工作日历" not in page


def test_the_auditor_reads_the_calendar_without_any_form(
    client: TestClient, session: Session
) -> None:
    world(session)
    log_in(client, "aud")
    page = client.get("/console/calendar/2026?day=2026-10-01").text
    assert "2026-10-01（周四）" in page and "官方安排：休息日" in page
    assert re.findall(r'<form method="post" action="([^"]+)"', page) == ["/console/logout"]


def _csv(rows: list[str]) -> bytes:
    return ("\ufeff机构编号,结算ID,规则编码,扣款金额,扣款原因\r\n" + "\r\n".join(rows)).encode()


def _upload(client: TestClient, content: bytes, name: str = "r.csv") -> object:
    token = csrf_of(client.get("/console/audits/import").text)
    return client.post(
        "/console/audits/import",
        data={"csrf_token": token},
        files={"file": (name, content, "text/csv")},
    )


def _count_audits(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(AuditItem)) or 0)


def test_an_import_with_one_bad_row_stores_nothing(client: TestClient, session: Session) -> None:
    world(session)
    before = _count_audits(session)
    log_in(client, "op")
    # row 3's settlement does not exist: only the bulk path can tell; row 4's amount is wrong
    refused = _upload(
        client,
        _csv(["H001,S3,R02,10.00,超量", "H001,S404,R02,10.00,超量", "H001,S4,R02,1.5x,超量"]),
    )
    assert refused.status_code == 422
    text = refused.text
    assert "2 行有误，整个文件未导入" in text
    assert "第 4 行" in text and "金额：金额请写成“1234.56”的形式（单位：元）" in text
    assert "第 3 行" in text and "没有这笔结算（请核对机构编号与结算ID）" in text
    assert "第 2 行" not in text and "确认导入" not in text
    assert _count_audits(session) == before
    # S3's fund is 15,000.00 and 120.00 is already deducted
    deduction = _upload(client, _csv(["H001,S3,R02,14900.00,超量"]))
    assert "该笔结算的扣款合计将超过其统筹基金支付金额" in deduction.text
    assert _count_audits(session) == before


def test_a_good_file_is_previewed_then_stored_whole(client: TestClient, session: Session) -> None:
    world(session)
    before = _count_audits(session)
    log_in(client, "op")
    preview = _upload(
        client,
        _csv(
            [
                "H001,S3,R02,10.00,超量",
                "H001,S4,R02,20.50,重复收费",
                "H001,S1,R01,120.00,超标准收费",
            ]
        ),
    )
    assert preview.status_code == 200
    text = preview.text
    assert "全部通过检查：新增 2 条，已存在 1 条" in text and "¥20.50" in text
    assert _count_audits(session) == before  # the preview stored nothing
    payload = re.search(r'name="payload" value="([^"]*)"', text)
    assert payload is not None
    confirmed = client.post(
        "/console/audits/import/confirm",
        data={"csrf_token": csrf_of(text), "payload": html.unescape(payload.group(1))},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == (
        "/console/audits?ok=imported"
    )
    assert _count_audits(session) == before + 2
    item = session.scalar(
        select(AuditItem).where(AuditItem.rule_code == "R02", AuditItem.initial_amount_fen == 2050)
    )
    assert item is not None and item.created_by == "op" and item.status == "INITIAL"
    listed = client.get("/console/audits?ok=imported").text
    assert "审核结果已全部导入" in listed and "S4" in listed


def test_a_changed_payload_is_checked_again_on_confirm(
    client: TestClient, session: Session
) -> None:
    world(session)
    before = _count_audits(session)
    log_in(client, "op")
    token = csrf_of(client.get("/console/audits/import").text)
    tampered = client.post(
        "/console/audits/import/confirm",
        data={
            "csrf_token": token,
            "payload": '[[2,"H001","S3","R02","10.00","x"],[3,"H001","S404","R02","1.00","x"]]',
        },
    )
    assert tampered.status_code == 422 and "没有这笔结算" in tampered.text
    assert _count_audits(session) == before  # the good row was rolled back too


def test_review_and_consultation(client: TestClient, session: Session) -> None:
    seeded: World = world(session)
    log_in(client, "op")
    code, setl_id, rule = seeded.appealed
    url = f"/console/audits/{code}/{setl_id}/{rule}"
    page = client.get(url).text
    assert "复审" in page and "已按规定收费" in page and "申诉中" in page
    higher = _post(client, f"{url}/review", {"amount": "150.00", "final": "true"}, url)
    assert higher.status_code == 422
    assert "金额只能逐级调低，不能高于上一步的金额" in higher.text
    done = _post(client, f"{url}/review", {"amount": "80.00", "final": "true"}, url)
    assert done.status_code == 303
    session.expire_all()
    item = session.scalar(select(AuditItem).where(AuditItem.id == _item_id(session, setl_id)))
    assert item is not None and (item.status, item.final_amount_fen) == ("FINAL", 8000)
    again = _post(client, f"{url}/review", {"amount": "70.00", "final": "true"}, url)
    assert "只有“申诉中”的审核结果才能复审" in again.text
    code, setl_id, rule = seeded.reviewed
    url = f"/console/audits/{code}/{setl_id}/{rule}"
    assert "合议" in client.get(url).text
    consulted = _post(client, f"{url}/consultation", {"amount": "40.00"}, url)
    assert consulted.status_code == 303
    session.expire_all()
    item = session.scalar(select(AuditItem).where(AuditItem.id == _item_id(session, setl_id)))
    assert item is not None and (item.status, item.final_amount_fen) == ("FINAL", 4000)
    appeals = client.get("/console/appeals").text
    assert "医院已申诉：0 条" in appeals and "复审未终审：0 条" in appeals


def _item_id(session: Session, setl_id: str) -> int:
    found = session.scalar(
        select(AuditItem.id)
        .join(Settlement, Settlement.id == AuditItem.settlement_id)
        .where(Settlement.setl_id == setl_id, AuditItem.rule_code == "R01")
    )
    assert found is not None
    return found


def test_advances_and_assessments(client: TestClient, session: Session) -> None:
    world(session)
    log_in(client, "op")
    form = {
        "fixmedins_code": "H001",
        "insutype": "310",
        "period": "2026-03",
        "amount": "3000.00",
        "reference": "ZC-2026-03-001",
    }
    done = _post(client, "/console/advances", form)
    assert done.headers["location"] == "/console/advances?ok=advance"
    same = _post(client, "/console/advances", form)
    assert same.headers["location"] == "/console/advances?ok=advance_same"
    other = _post(client, "/console/advances", {**form, "amount": "3100.00"})
    assert other.status_code == 422 and "该垫付单号已登记过，且内容不同" in other.text
    session.expire_all()
    [advance] = session.scalars(select(ProcurementAdvance)).all()
    assert advance.amount_fen == 300_000
    entries = ledger.list_entries(
        session,
        region_code=None,
        insutype=None,
        fixmedins_code="H001",
        kind="procurement_advance",
        period=None,
        account_code=None,
        after_id=None,
        limit=5,
    )
    assert len(entries) == 1
    unknown = _post(client, "/console/advances", {**form, "fixmedins_code": "H404"})
    assert unknown.status_code == 422 and "没有这个机构" in unknown.text
    assessment = {
        "year": "2025",
        "fixmedins_code": "H001",
        "insutype": "310",
        "assessment_score": "92.5",
        "credit_score": "88",
        "clearing_amount": "1200000.00",
    }
    saved = _post(client, "/console/assessments", assessment)
    assert saved.headers["location"] == "/console/assessments?ok=assessment"
    session.expire_all()
    row = session.scalar(select(Assessment))
    assert row is not None and (row.assessment_score, row.clearing_amount_fen) == (
        9250,
        120_000_000,
    )
    bad = _post(client, "/console/assessments", {**assessment, "credit_score": "101"})
    assert bad.status_code == 422 and "信用得分：分数应在 0 到 100 之间" in bad.text
    listed = client.get("/console/assessments?year=2025").text
    assert "92.50" in listed and "¥1,200,000.00" in listed


def test_jobs_run_for_a_date_with_the_apis_refusals(client: TestClient, session: Session) -> None:
    world(session)
    log_in(client, "op")
    page = client.get("/console/jobs").text
    assert "日拨付批次" in page and "今天最晚：2026-03-05" in page  # Friday 03-06: Thursday's batch
    ran = _post(client, "/console/jobs/daily_batch/run", {"business_date": "2026-03-05"})
    assert ran.headers["location"] == "/console/jobs?job=daily_batch&ok=ran"
    session.expire_all()
    run = session.scalar(select(JobRun).where(JobRun.job_name == "daily_batch"))
    assert run is not None and run.status == "SUCCEEDED" and run.business_date == date(2026, 3, 5)
    skipped = _post(client, "/console/jobs/daily_batch/run", {"business_date": "2026-03-05"})
    assert skipped.headers["location"].endswith("ok=skipped_done")
    again = _post(
        client, "/console/jobs/daily_batch/run", {"business_date": "2026-03-05", "again": "1"}
    )
    assert again.headers["location"].endswith("ok=ran")
    future = _post(client, "/console/jobs/daily_batch/run", {"business_date": "2026-03-06"})
    assert future.status_code == 422
    assert "“日拨付批次”今天最晚只能为 2026-03-05 运行，不能为更晚的业务日期运行。" in future.text
    past = _post(client, "/console/jobs/submission/run", {"business_date": "2026-03-05"})
    assert "“银行提交”只能为今天应运行的业务日期（2026-03-06）运行。" in past.text
    nope = _post(client, "/console/jobs/nope/run", {"business_date": "2026-03-05"})
    assert nope.status_code == 422 and "没有这个任务" in nope.text


def test_acknowledge_an_alert(client: TestClient, session: Session) -> None:
    seeded = world(session)
    log_in(client, "op")
    home = client.get("/console/").text
    assert "次年工作日历未确认" in home and "其中 1 条无人确认" in home
    page = client.get("/console/alerts?state=all").text
    assert "确认知悉" in page
    done = _post(
        client,
        f"/console/alerts/{seeded.alert_id}/acknowledge",
        {"back": "/console/alerts?state=all&ok=x"},
    )
    assert done.headers["location"] == "/console/alerts?state=all&ok=acknowledged"
    session.expire_all()
    alert = session.get(Alert, seeded.alert_id)
    assert alert is not None and alert.acknowledged_by == "op" and alert.resolved_at is None
    assert [e.actor for e in _trail(session, "alert.acknowledge")] == ["op"]
    outside = _post(
        client, f"/console/alerts/{seeded.alert_id}/acknowledge", {"back": "https://evil.example/"}
    )
    assert outside.headers["location"] == "/console/alerts?ok=acknowledged"
    from_home = _post(
        client, f"/console/alerts/{seeded.alert_id}/acknowledge", {"back": "/console/"}
    )
    assert from_home.headers["location"] == "/console/?ok=acknowledged"
    assert "其中 0 条无人确认" in client.get("/console/").text


def test_the_auditors_ledger_pages(client: TestClient, session: Session) -> None:
    seeded = world(session)
    log_in(client, "aud")
    home = client.get("/console/").text
    assert "审计工作台" in home and "平衡" in home
    accounts = client.get("/console/ledger/accounts?region=640100&insutype=310&name=bank").text
    assert "bank:640100:310" in accounts and "¥50,000,000.00" in accounts
    before = client.get("/console/ledger/accounts?name=bank&as_of=2026-03-01").text
    assert "截至 2026-03-01（周日） 日终" in before and "¥50,000,000.00" not in before
    entries = client.get("/console/ledger/entries?account=bank%3A640100%3A310").text
    assert f'href="/console/ledger/entries/{seeded.entry_id}"' in entries and "财政拨入" in entries
    early = client.get("/console/ledger/entries?to=2026-03-01").text
    assert "没有符合条件的分录" in early
    by_date = client.get("/console/ledger/entries?from=2026-03-02&to=2026-03-02").text
    assert f'href="/console/ledger/entries/{seeded.entry_id}"' in by_date
    wrong = client.get("/console/ledger/entries?from=2026-03-05&to=2026-03-01")
    assert wrong.status_code == 422 and "截止日期不能早于起始日期" in wrong.text
    entry = client.get(f"/console/ledger/entries/{seeded.entry_id}").text
    assert "本分录哈希" in entry
    trial = client.get("/console/ledger/trial-balance").text
    assert "平衡" in trial and "¥50,000,000.00" in trial
    verify = client.get("/console/ledger/verify")
    assert "运行校验" in verify.text and "校验结果" not in verify.text
    ran = client.get("/console/ledger/verify?run=1").text
    assert "余额、哈希链与试算平衡全部一致" in ran and "已校验 1 条分录" in ran
    trail = client.get("/console/trail?action=login").text
    assert "登录" in trail and "aud" in trail


def test_balances_as_of_match_the_service(session: Session) -> None:
    world(session)
    late = datetime(2026, 3, 5, tzinfo=UTC)
    page = balances_page(session, as_of=late, limit=100)
    assert page and all(
        row.balance_fen == ledger.balance_as_of(session, row.code, late) for row in page
    )
    early = balances_page(session, name="bank", as_of=datetime(2026, 3, 1, tzinfo=UTC), limit=5)
    assert [row.balance_fen for row in early] == [0]


def test_users_passwords_and_tokens(client: TestClient, session: Session) -> None:
    world(session)
    log_in(client, "adm")
    assert "系统管理工作台" in client.get("/console/").text
    created = _post(
        client,
        "/console/users",
        {"name": "h2-upload", "role": "hospital", "fixmedins_code": "H002"},
    )
    assert created.headers["location"] == "/console/users/h2-upload?ok=user"
    taken = _post(client, "/console/users", {"name": "h2-upload", "role": "operator"})
    assert "用户名“h2-upload”已被使用" in taken.text
    unbound = _post(client, "/console/users", {"name": "h3", "role": "hospital"})
    assert "医院用户必须绑定所属机构" in unbound.text
    page = "/console/users/h2-upload"
    short = _post(
        client, f"{page}/password", {"password": "short", "password_again": "short"}, page
    )
    assert short.status_code == 422 and "密码：至少 10 个字符" in short.text
    differ = _post(
        client, f"{page}/password", {"password": "long-enough-1", "password_again": "x"}, page
    )
    assert "两次输入的密码不一致" in differ.text
    done = _post(
        client,
        f"{page}/password",
        {"password": "long-enough-1", "password_again": "long-enough-1"},
        page,
    )
    assert done.status_code == 303
    issued = _post(client, f"{page}/tokens", {}, page)
    assert issued.status_code == 201
    token = re.search(r"<code>(flt_[^<]+)</code>", issued.text)
    assert token is not None and "只显示这一次" in issued.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert me.json() == {"name": "h2-upload", "role": "hospital", "fixmedins_code": "H002"}
    later = client.get(page).text
    assert token.group(1) not in later and token.group(1)[:10] in later
    session.expire_all()
    row = session.scalar(
        select(ApiToken).join(User, User.id == ApiToken.user_id).where(User.name == "h2-upload")
    )
    assert row is not None
    revoked = _post(client, f"/console/tokens/{row.id}/revoke", {}, page)
    assert revoked.headers["location"] == "/console/users/h2-upload?ok=revoked"
    gone = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert gone.status_code == 401
    off = _post(client, f"{page}/active", {"active": "false"}, page)
    assert off.status_code == 303
    assert log_in(client, "h2-upload", "long-enough-1").status_code != 303


def test_institution_edits_and_a_policy_version(client: TestClient, session: Session) -> None:
    world(session)
    log_in(client, "adm")  # admins keep the reference data with operators
    page = "/console/institutions/H002"
    assert "另一家医院" in client.get(page).text
    renamed = _post(
        client,
        page,
        {
            "name": "银川市第九人民医院",
            "level": "2",
            "bank_account": "6222000000000099",
            "bank_account_name": "银川市第九人民医院",
            "bank_code": "102871000011",
            "med_type_prefixes": "21, 22",
        },
        page,
    )
    # a changed payee is a request for a second person (issue 19), the rest is saved
    assert renamed.headers["location"] == f"{page}?ok=payee_change"
    shown = client.get(page).text
    assert "银川市第九人民医院" in shown and "21、22" in shown
    assert "6222000000000099" not in shown
    overlap = _post(
        client, f"{page}/enrollments", {"insutype": "310", "start_date": "2026-02-01"}, page
    )
    assert "与该机构已有的参保期间重叠" in overlap.text
    bad_bank = _post(client, page, {"bank_code": "12"}, page)
    assert "开户行行号：格式不对" in bad_bank.text
    fund = "/console/fund-ledgers/640100/390"
    version = _post(
        client,
        f"{fund}/policies",
        {
            "effective_from": "2026-07-01",
            "active": "true",
            "daily_ratio": "0.70",
            "deposit_rate": "0.05",
            "submission_time": "14:30",
            "cutoff_time": "15:00",
            "declaration_day": "15",
            "appeal_window_days": "5",
        },
        fund,
    )
    assert version.headers["location"] == f"{fund}?ok=policy"
    listed = client.get(fund).text
    assert "2026-07-01（周三）" in listed and "0.70" in listed
    cutoff = _post(
        client,
        f"{fund}/policies",
        {"effective_from": "2026-08-01", "submission_time": "15:00", "cutoff_time": "14:30"},
        fund,
    )
    assert "银行截止时间须晚于提交银行时间" in cutoff.text
    assert [e.actor for e in _trail(session, "policy.create")][-1] == "adm"
