"""The console over HTTP: cookies, CSRF, scoping, paging, filters, XLSX, the password API."""

from __future__ import annotations

import io
from decimal import Decimal

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from tests.support import builders
from tests.support.builders import bearer
from tests.support.console import PASSWORD, csrf_of, log_in, person, statement


def _setup(session: Session) -> dict[str, int]:
    builders.institution(session, "H001", name="宁夏测试医院")
    builders.institution(session, "H002")
    person(session, "h1", "hospital", "H001")
    person(session, "acc", "accountant")
    person(session, "aud", "auditor")  # staff whose 首页 is the statement list
    own = statement(session, "H001", "2026-01", audit=-0)
    other = statement(session, "H002", "2026-01")
    statement(session, "H001", "2026-02", status="PAID")
    session.commit()
    return {"own": own.id, "other": other.id}


def test_root_leads_to_the_console_and_pages_need_a_login(
    client: TestClient, session: Session
) -> None:
    _setup(session)
    assert client.get("/", follow_redirects=False).headers["location"] == "/console/"
    response = client.get("/console/statements/1?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=%2Fconsole%2Fstatements")


def test_login_sets_a_hardened_cookie_and_lands_on_the_home_page(
    client: TestClient, session: Session
) -> None:
    _setup(session)
    response = log_in(client, "h1")
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = response.headers["set-cookie"]
    assert "fundledger_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # not in production: plain HTTP on a test server
    home = client.get("/console/")
    assert home.status_code == 200
    assert "宁夏测试医院" in home.text and "<svg" in home.text
    assert "default-src 'none'" in home.headers["content-security-policy"]
    assert home.headers["cache-control"] == "no-store"
    assert "<script" not in home.text


def test_a_post_without_or_with_a_wrong_csrf_token_is_403(
    client: TestClient, session: Session
) -> None:
    _setup(session)
    page = client.get("/console/login")
    refused = client.post("/console/login", data={"name": "h1", "password": PASSWORD})
    assert refused.status_code == 403 and "表单已失效" in refused.text
    forged = client.post(
        "/console/login", data={"name": "h1", "password": PASSWORD, "csrf_token": "x" * 32}
    )
    assert forged.status_code == 403
    assert log_in(client, "h1").status_code == 303
    assert client.post("/console/logout").status_code == 403  # still logged in after that
    assert client.get("/console/").status_code == 200
    ok = client.post(
        "/console/logout",
        data={"csrf_token": csrf_of(client.get("/console/").text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/console/login?bye=1"
    assert csrf_of(page.text)
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_a_hospital_sees_only_its_own_statements(client: TestClient, session: Session) -> None:
    ids = _setup(session)
    log_in(client, "h1")
    assert client.get(f"/console/statements/{ids['own']}").status_code == 200
    other = client.get(f"/console/statements/{ids['other']}")
    assert other.status_code == 404 and "没有找到" in other.text
    # the hospital's list of its statements (its 首页 is its own: tests/api/test_console_hospital*)
    listed = client.get("/console/hospital/statements?fixmedins_code=H002").text  # ignored
    assert "H002" not in listed
    assert listed.count('href="/console/hospital/statements/') == 2
    log_in(client, "acc")
    assert client.get(f"/console/statements/{ids['other']}").status_code == 200


def test_paging_and_filters(client: TestClient, session: Session) -> None:
    _setup(session)
    log_in(client, "h1")  # the hospital's statement list (two statements)
    link = 'href="/console/hospital/statements/'
    first = client.get("/console/hospital/statements?limit=1")
    assert first.text.count(link) == 1
    assert "下一页" in first.text
    next_url = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_url.replace("&amp;", "&"))
    assert second.text.count(link) == 1
    assert "已是最后一页" in second.text
    paid = client.get("/console/hospital/statements?status=PAID")
    assert paid.text.count(link) == 1
    bad = client.get("/console/hospital/statements?period=2026-13&status=NOPE")
    assert bad.status_code == 422 and "请按“2026-09”的格式填写" in bad.text


def test_the_list_downloads_as_xlsx_with_numbers_in_yuan(
    client: TestClient, session: Session
) -> None:
    _setup(session)
    log_in(client, "h1")
    response = client.get("/console/statements.xlsx?period=2026-01")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "月度结算单 结算期：2026-01"
    assert rows[1][0] == "结算期" and "月拨付金额" in rows[1]
    assert len(rows) == 3  # caption, headings, H001's January only
    net = rows[2][rows[1].index("月拨付金额")]
    assert Decimal(str(net)) == Decimal("380000.00")
    assert rows[2][rows[1].index("状态")] == "待确认"


def test_unknown_console_paths_are_a_404_page(client: TestClient, session: Session) -> None:
    _setup(session)
    log_in(client, "acc")
    response = client.get("/console/nowhere")
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]


def test_admin_sets_a_password_through_the_api(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001")
    admin = builders.user_token(session, "root", "admin")
    builders.user_token(session, "op", "operator")
    session.commit()
    url = "/api/v1/users/op/password"
    assert client.put(url, json={"password": "short"}, headers=bearer(admin)).status_code == 422
    operator = client.put(url, json={"password": "long-enough-1"}, headers=bearer(admin))
    assert operator.status_code == 204
    assert (
        client.put(
            "/api/v1/users/nobody/password",
            json={"password": "long-enough-1"},
            headers=bearer(admin),
        ).status_code
        == 404
    )
    user = session.scalars(select(User).where(User.name == "op")).one()
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    assert log_in(client, "op", "long-enough-1").status_code == 303


def test_nul_in_forms_and_queries_is_a_422_page(client: TestClient, session: Session) -> None:
    """The API's text rule holds on pages too (same answer on SQLite and PostgreSQL)."""
    _setup(session)
    assert (
        client.post(
            "/console/login", data={"name": "h1\x00", "password": PASSWORD, "csrf_token": "x"}
        ).status_code
        == 422
    )
    log_in(client, "h1")
    page = client.get("/console/", params={"period": "2026-01\x00"})
    assert page.status_code == 422 and "<html" in page.text
    csrf = csrf_of(client.get("/console/").text)
    refused = client.post("/console/logout", data={"csrf_token": csrf, "note": "a\x00b"})
    assert refused.status_code == 422
    assert client.get("/console/").status_code == 200  # still logged in: nothing was done
