"""Console test helpers: people with passwords, statements to show, logging in over HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.auth import logins
from app.auth import service as auth
from app.monthly.models import MonthlyStatement
from tests.support.builders import ADMIN

PASSWORD = "console-pass-1"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def person(session: Session, name: str, role: str, code: str | None = None) -> None:
    auth.create_user(session, name=name, role=role, fixmedins_code=code, actor=ADMIN, now=NOW)
    logins.set_password(session, name=name, password=PASSWORD, actor=ADMIN, now=NOW)


def statement(
    session: Session, code: str, period: str, *, insutype: str = "310", **fen: int
) -> MonthlyStatement:
    """A stored statement whose components add up (display tests; no computation)."""
    fund_pay = fen.get("fund_pay", 1_000_000_00)
    deposit = fen.get("deposit", fund_pay // 20)
    parts = {
        "audit_fen": fen.get("audit", 12_345_67),
        "daily_paid_fen": fen.get("daily_paid", 570_000_00),
        "procurement_fen": 0,
        "returned_fen": 0,
        "offset_fen": 0,
    }
    net = fund_pay - deposit - parts["audit_fen"] - parts["daily_paid_fen"]
    row = MonthlyStatement(
        region_code="640100",
        insutype=insutype,
        fixmedins_code=code,
        period=period,
        status=fen.get("status", "COMPUTED"),  # type: ignore[arg-type]
        version=1,
        deposit_rate_bp=500,
        fund_pay_fen=fund_pay,
        deposit_fen=deposit,
        ratio_amount_fen=fund_pay - deposit,
        net_fen=net,
        computed_at=NOW,
        computed_by="test",
        **parts,
    )
    session.add(row)
    session.flush()
    return row


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def log_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
