"""The admin in a real browser: a user created with its role and institution, a password set
(the person then logs in), a token issued (shown once, working on the API) and revoked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import LiveServer
from tests.browser.office import log_in, office_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(chromium: Any) -> Iterator[LiveServer]:
    with office_server() as server:
        yield server


def test_create_a_user_and_set_a_password(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "adm")
    assert page.inner_text("h1") == "系统管理工作台"
    page.click("nav.main-nav >> text=用户")
    page.fill("input[name=name]", "h2-finance")
    page.select_option("select[name=role]", "hospital")
    page.click("button:text('新建')")
    assert "医院用户必须绑定所属机构" in page.inner_text(".errors")
    page.fill("input[name=fixmedins_code]", "H002")
    page.click("button:text('新建')")
    assert "用户已创建" in page.inner_text(".notice")
    assert "h2-finance" in page.inner_text("h1") and "H002" in page.inner_text("h1")
    page.fill("input[name=password]", "h2-password-1")
    page.fill("input[name=password_again]", "h2-password-1")
    page.click("text=设置密码")
    assert "密码已设置" in page.inner_text(".notice")
    person = log_in(live, chromium, "h2-finance", "h2-password-1")
    assert "另一家医院" in person.inner_text("h1")


def test_issue_a_token_shown_once_and_revoke_it(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "adm")
    page.goto(f"{live.url}/console/users/op")
    page.click("text=签发新令牌")
    once = page.locator("section.once")
    assert "只显示这一次" in once.inner_text()
    token = once.locator("code").inner_text()
    assert token.startswith("flt_")
    me = httpx.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "op"
    page.goto(f"{live.url}/console/users/op")  # the page again: the token is never shown again
    assert page.locator("section.once").count() == 0 and token not in page.content()
    row = page.locator("table.list tbody tr", has_text=token[:10])
    assert "有效" in row.inner_text()
    row.locator("text=吊销").click()
    assert "令牌已吊销" in page.inner_text(".notice")
    assert "已吊销" in page.locator("table.list tbody tr", has_text=token[:10]).inner_text()
    gone = httpx.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
