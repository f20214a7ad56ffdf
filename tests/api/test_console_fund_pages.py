"""The fund accountant's pages over HTTP: each page, the queue's order and paging, approving,
rejecting (a reason required), maker–checker, re-approval, appropriations and repayments,
and the roles: a hospital gets none of it, the auditor and the operator read without a single
write control, and every write refuses them."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from app.clock import SimulatedClock
from app.daily.models import DailyBatch, DailyLine
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.monthly.models import MonthlyStatement, Repayment
from app.treasury.models import Appropriation
from tests.support import fund_world
from tests.support.console import csrf_of, log_in, statement

PAGES = (
    "/console/",
    "/console/fund/queue",
    "/console/fund/batches/{batch}",
    "/console/fund/batches/{batch}/lines/H001",
    "/console/fund/statements/{statement}",
    "/console/fund/clearings/{clearing}",
    "/console/fund/payments",
    "/console/fund/funds",
)


@pytest.fixture
def world(session: Session, clock: SimulatedClock) -> dict[str, int]:
    clock.set(fund_world.NOW)
    return fund_world.seed(session)


def _post(client: TestClient, path: str, data: dict[str, str], page: str = "/console/fund/queue"):
    token = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _approve(client: TestClient, entity: str, doc_id: int, back: str = "/console/fund/queue"):
    return _post(
        client, "/console/fund/approve", {"document": entity, "doc_id": str(doc_id), "back": back}
    )


def _status(session: Session, model: type, doc_id: int) -> str:
    session.expire_all()
    return str(session.get(model, doc_id).status)  # type: ignore[union-attr]


def _queue_links(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'href="(/console/fund/(?:batches|statements|clearings)/\d+)"', body)


def test_every_page_renders_for_the_accountant(client: TestClient, world: dict[str, int]) -> None:
    log_in(client, "acc")
    for path in PAGES:
        response = client.get(path.format(**world))
        assert response.status_code == 200, (path, response.text[:300])
        assert "<script" not in response.text
    home = client.get("/console/").text
    assert "基金财务工作台" in home and "今日提交银行时点" in home
    assert "2026-03-09（周一）14:30" in home and "2026-03-09（周一）15:00" in home
    batch = client.get(f"/console/fund/batches/{world['batch']}").text
    assert "2026-03-09（周一） 14:30 提交银行（15:00 截止）" in batch
    assert "支付汇总单" in batch and "宁夏测试医院" in batch and "另一家医院" in batch
    assert "¥9,000.00" in batch  # 60 % of 10,000.00 + 5,000.00
    line = client.get(f"/console/fund/batches/{world['batch']}/lines/H001").text
    assert "S1" in line and "¥6,000.00" in line
    statement_page = client.get(f"/console/fund/statements/{world['statement']}").text
    assert "减：质量保证金" in statement_page and "¥367,654.33" in statement_page
    clearing = client.get(f"/console/fund/clearings/{world['clearing']}").text
    assert "年清算实付金额" in clearing and "¥50,000.00" in clearing
    monitor = client.get("/console/fund/payments").text
    assert "收款账户状态异常" in monitor and "M2601-6401310-H001" in monitor
    assert 'role="img"' in monitor  # the 60-day chart
    funds = client.get("/console/fund/funds").text
    assert "¥50,000,000.00" in funds and "BK-2026-0301" in funds
    assert "¥1,500.00" in funds  # H002's receivable, 31–90 days old


def test_the_queue_is_ordered_by_deadline_and_paged(
    client: TestClient, world: dict[str, int]
) -> None:
    log_in(client, "acc")
    page = client.get("/console/fund/queue").text
    assert _queue_links(page) == [
        f"/console/fund/batches/{world['batch']}",  # pays today: submission 14:30
        f"/console/fund/batches/{world['zhang_batch']}",
        f"/console/fund/statements/{world['failed_statement']}",  # 5th working day: 03-11
        f"/console/fund/statements/{world['zhang_statement']}",  # 2026-01: 20th day 03-24
        f"/console/fund/statements/{world['statement']}",  # 2026-02: 04-15
        f"/console/fund/clearings/{world['clearing']}",  # 31 May
    ]
    assert "2026-03-11（周三）" in page and "2026-05-31（周日）" in page
    first = client.get("/console/fund/queue?limit=4").text
    assert len(_queue_links(first)) == 4
    next_url = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_url.replace("&amp;", "&")).text
    assert _queue_links(second) == _queue_links(page)[4:]
    only = client.get("/console/fund/queue?kind=statement").text
    assert len(_queue_links(only)) == 2
    bad = client.get("/console/fund/queue?after=bm90LWEta2V5")
    assert bad.status_code == 422 and "翻页位置无效" in bad.text


def test_a_batch_counts_only_the_lines_still_to_pay(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    """A line withdrawn by a monthly computation is never sent: not in the amount to approve."""
    session.execute(
        update(DailyLine)
        .where(DailyLine.batch_id == world["batch"], DailyLine.fixmedins_code == "H002")
        .values(withdrawn_at=fund_world.NOW)
    )
    session.commit()
    log_in(client, "acc")
    page = client.get("/console/fund/queue").text
    row = page.split(f'href="/console/fund/batches/{world["batch"]}"', 1)[1].split("</tr>")[0]
    assert "¥6,000.00" in row and "1 家机构" in row  # H001's 6,000.00 only
    batch = client.get(f"/console/fund/batches/{world['batch']}").text
    assert "已转月结算" in batch


def test_approving_a_batch_moves_it_to_the_done_list(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    log_in(client, "acc")
    response = _approve(client, "daily_batch", world["batch"])
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/fund/queue?ok=approved")
    assert _status(session, DailyBatch, world["batch"]) == "APPROVED"
    page = client.get(response.headers["location"]).text
    assert "已审批：日拨付批次 2026-03-06" in page
    assert f"/console/fund/batches/{world['batch']}" not in _queue_links(page)
    done = page.split('id="done"', 1)[1]
    assert f'href="/console/fund/batches/{world["batch"]}"' in done and "审批" in done
    again = _approve(client, "daily_batch", world["batch"])  # approving twice changes nothing
    assert again.status_code == 303


def test_the_maker_cannot_approve_and_the_page_says_why(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    log_in(client, "zhang")  # pushed the batch as an operator, an accountant now
    batch = client.get(f"/console/fund/batches/{world['zhang_batch']}").text
    assert "制单与审批分离" in batch and "须由另一位基金财务审批" in batch
    assert re.search(r"<button type=\"button\" disabled>审批通过</button>", batch)
    queue = client.get("/console/fund/queue").text
    refusals = re.findall(r'<p class="refusal" role="note">([^<]*)</p>', queue)
    assert refusals == ["您是本单据的制单人（制单与审批分离），须由另一位基金财务审批。"] * 2
    # ... on his batch and on the statement he recomputed
    refused = _approve(client, "daily_batch", world["zhang_batch"])
    assert refused.status_code == 403 and "不能由您审批" in refused.text
    assert _status(session, DailyBatch, world["zhang_batch"]) == "PUSHED"
    refused = _approve(client, "statement", world["zhang_statement"])
    assert refused.status_code == 403 and "本结算单由您计算或修改" in refused.text
    assert _status(session, MonthlyStatement, world["zhang_statement"]) == "CONFIRMED"
    log_in(client, "acc")
    assert "您是本单据的制单人" not in client.get("/console/fund/queue").text
    assert _approve(client, "daily_batch", world["zhang_batch"]).status_code == 303


def test_a_rejection_needs_a_reason(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    log_in(client, "acc")
    path = f"/console/fund/batches/{world['batch']}"
    for blank in ("", "   \n "):
        refused = _post(client, f"{path}/reject", {"reason": blank}, page=path)
        assert refused.status_code == 422 and "请填写退回原因" in refused.text
        assert _status(session, DailyBatch, world["batch"]) == "PUSHED"
    too_long = _post(client, f"{path}/reject", {"reason": "长" * 301}, page=path)
    assert too_long.status_code == 409 and "不能超过 300 个字" in too_long.text
    hinted = client.get(f"{path}?hold=H002").text
    assert "建议暂缓拨付：另一家医院（H002）" in hinted  # the operator holds lines back
    done = _post(client, f"{path}/reject", {"reason": "H002 结算待核实"}, page=path)
    assert done.status_code == 303
    assert _status(session, DailyBatch, world["batch"]) == "REJECTED"
    page = client.get("/console/fund/queue").text
    assert "H002 结算待核实" in page.split('id="done"', 1)[1]
    again = _post(client, f"{path}/reject", {"reason": "另一个原因"}, page=path)
    assert again.status_code == 409 and "已不在待审批状态" in again.text


def test_reapproving_a_failed_statement_payment(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    log_in(client, "acc2")
    monitor = client.get("/console/fund/payments").text
    section = monitor.split('id="reapprove"', 1)[1].split("</section>", 1)[0]
    assert "收款账户状态异常" in section and "重新审批" in section
    response = _approve(client, "statement", world["failed_statement"], "/console/fund/payments")
    assert response.status_code == 303
    assert _status(session, MonthlyStatement, world["failed_statement"]) == "APPROVED"
    after = client.get(response.headers["location"]).text
    assert "已重新审批" in after
    section = after.split('id="reapprove"', 1)[1].split("</section>", 1)[0]
    assert "没有拨付失败待重新审批的单据" in section
    funds = client.get("/console/fund/funds").text
    assert "¥367,654.33" in funds  # goes with the next submission


def test_recording_an_appropriation(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    log_in(client, "acc")
    bank = account_code("bank", "640100", "310")
    before = ledger.balance(session, bank)
    form = {"fund": "640100:310", "amount": "1200000.50", "reference": "BK-2026-0309"}
    response = _post(client, "/console/fund/appropriations", form, page="/console/fund/funds")
    assert response.status_code == 303
    assert "已登记基金划入" in client.get(response.headers["location"]).text
    session.expire_all()
    assert ledger.balance(session, bank) == before + 1_200_000_50
    replay = _post(client, "/console/fund/appropriations", form, page="/console/fund/funds")
    assert "此前已登记" in client.get(replay.headers["location"]).text
    other = {**form, "amount": "1.00"}
    refused = _post(client, "/console/fund/appropriations", other, page="/console/fund/funds")
    assert refused.status_code == 422 and "同一凭证号不能登记两次" in refused.text
    bad = {**form, "amount": "12.345", "reference": "BK 1"}
    refused = _post(client, "/console/fund/appropriations", bad, page="/console/fund/funds")
    assert refused.status_code == 422
    assert "最多两位小数" in refused.text and "凭证号" in refused.text
    assert 'value="12.345"' in refused.text  # what was typed stays in the form
    count = session.scalar(select(func.count()).select_from(Appropriation))
    assert count == 2  # the world's one and this one


def test_recording_a_repayment_within_the_open_receivable(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    log_in(client, "acc")
    receivable = account_code("receivable", "640100", "310", "H002")
    assert ledger.balance(session, receivable) == 1_500_00
    form = {"account": "640100:310:H002", "amount": "1500.01", "receipt_no": "HK-01"}
    refused = _post(client, "/console/fund/repayments", form, page="/console/fund/funds")
    assert refused.status_code == 422
    assert "还款金额超过该机构未结清的应收款，不能登记。" in refused.text
    assert session.scalar(select(func.count()).select_from(Repayment)) == 0
    ok = _post(
        client,
        "/console/fund/repayments",
        {**form, "amount": "1000.00"},
        page="/console/fund/funds",
    )
    assert ok.status_code == 303
    page = client.get(ok.headers["location"]).text
    assert "已登记还款" in page and "¥500.00" in page
    session.expire_all()
    assert ledger.balance(session, receivable) == 500_00


WRITES = (
    ("/console/fund/approve", {"document": "daily_batch", "doc_id": "{batch}"}),
    ("/console/fund/batches/{batch}/reject", {"reason": "x"}),
    ("/console/fund/appropriations", {"fund": "640100:310", "amount": "1.00", "reference": "R1"}),
    (
        "/console/fund/repayments",
        {"account": "640100:310:H002", "amount": "1.00", "receipt_no": "R"},
    ),
)


@pytest.mark.parametrize("name", ["aud", "op", "adm"])
def test_staff_read_without_write_controls_and_every_write_refuses_them(
    client: TestClient, session: Session, world: dict[str, int], name: str
) -> None:
    log_in(client, name)
    for path in PAGES[1:]:
        response = client.get(path.format(**world))
        assert response.status_code == 200, (name, path)
        posts = re.findall(r'<form method="post" action="([^"]+)"', response.text)
        assert posts == ["/console/logout"], (name, path, posts)
        assert "审批通过" not in response.text and "登记还款</button>" not in response.text
    token = csrf_of(client.get("/console/fund/queue").text)
    for path, data in WRITES:
        filled = {key: value.format(**world) for key, value in data.items()}
        refused = client.post(path.format(**world), data={**filled, "csrf_token": token})
        assert refused.status_code == 403 and "此页面不对您的角色开放" in refused.text
    assert _status(session, DailyBatch, world["batch"]) == "PUSHED"
    assert session.scalar(select(func.count()).select_from(Appropriation)) == 1


def test_a_hospital_gets_no_fund_page(client: TestClient, world: dict[str, int]) -> None:
    log_in(client, "h1")
    for path in PAGES[1:]:
        assert client.get(path.format(**world)).status_code == 403, path
    token = csrf_of(client.get("/console/").text)
    for path, data in WRITES:
        filled = {key: value.format(**world) for key, value in data.items()}
        assert (
            client.post(path.format(**world), data={**filled, "csrf_token": token}).status_code
            == 403
        )


def test_a_write_without_the_csrf_token_is_refused(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    log_in(client, "acc")
    refused = client.post(
        "/console/fund/approve", data={"document": "daily_batch", "doc_id": str(world["batch"])}
    )
    assert refused.status_code == 403 and "表单已失效" in refused.text
    assert _status(session, DailyBatch, world["batch"]) == "PUSHED"


def test_the_queue_reads_a_fixed_number_of_queries_whatever_its_length(
    client: TestClient, session: Session, world: dict[str, int]
) -> None:
    """Set-based: 30 more confirmed statements cost no more queries than none."""
    log_in(client, "acc")
    engine = session.get_bind().engine  # type: ignore[union-attr]
    counted: list[str] = []

    def count(*args: object) -> None:
        counted.append(str(args[2]))

    def queries_of(path: str) -> int:
        counted.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(counted)

    few = queries_of("/console/fund/queue")
    for number in range(30):
        period = f"{2023 + number // 12}-{number % 12 + 1:02d}"
        statement(session, "H001", period, status="CONFIRMED")
    session.commit()
    assert queries_of("/console/fund/queue") == few
    assert queries_of("/console/") == queries_of("/console/")  # stable
