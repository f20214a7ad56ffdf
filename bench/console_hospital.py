"""Hospital console pages benchmark (issue 17): every page of a hospital finance officer,
rendered for one hospital on the monthly bench's data, PostgreSQL.

Seeding (not timed): bench.monthly's seeding in a child process (region 640100, both fund
ledgers, M institutions, N settlements of 2026-10 with their daily batches, lines,
instructions, returns, revocations, audit items, procurement advances, declarations), then
the statements of 2026-10 computed by `statements.compute_due` (2 × M of them, COMPUTED).
For the measured hospital (H00000) also: the ledger entries of its daily payments (sent,
paid, returned: the monthly seeding writes the instructions by SQL without them), a stored
clearing of 2025, an audit result still open to appeal, a person with a password.

Timed: each page over HTTP through the whole application in process (Starlette's TestClient:
routing, the session check, the CSRF-free GETs, the query, the template), W warm-up requests
then R timed ones each; p50 and p95. The simulated clock stands at 2026-11-17 10:00 Shanghai.

Run: .venv/bin/python -m bench.console_hospital [--settlements 3000000] [--institutions 10000]
     [--requests 50] [--keep]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.annual.models import AnnualClearing
from app.auth import logins
from app.auth import service as auth
from app.bank.models import PaymentInstruction
from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker, transaction
from app.ledger import service as ledger
from app.ledger.rules import Draft, DraftLines, account_code
from app.main import create_app
from app.monthly.models import AuditItem, MonthlyStatement
from app.settlements.models import Settlement
from bench import monthly as monthly_bench
from bench.common import BENCH_ADMIN, Timer, fresh_postgres

CODE = "H00000"
PERSON = "bench-h00000"
PASSWORD = "bench-password-1"
NOW = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, after the computation
WARM_UP = 5
TARGET_P95_MS = 300.0


def _seed(url: str, settlements: int, count: int) -> float:
    timer = Timer()
    child = multiprocessing.get_context("spawn").Process(
        target=monthly_bench._seed, args=(url, settlements, count, "daily")
    )
    child.start()
    child.join()
    assert child.exitcode == 0, "seeding failed"
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    monthly_bench._compute_all(factory, keep=True)
    with transaction(factory) as session:
        _post_payments(session)
        _hospital_extras(session)
    engine.dispose()
    with make_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return timer.seconds


def _post_payments(session: Session) -> None:
    """The measured hospital's payments in its ledger, as the bank path posts them."""
    drafts = []
    for p in session.scalars(
        select(PaymentInstruction)
        .where(PaymentInstruction.fixmedins_code == CODE)
        .order_by(PaymentInstruction.created_at, PaymentInstruction.instruction_id)
    ):
        payable = account_code("payable", p.region_code, p.insutype, CODE)
        in_transit = account_code("in_transit", p.region_code, p.insutype)
        bank = account_code("bank", p.region_code, p.insutype)
        steps = [
            ("sent", payable, in_transit, p.sent_at),
            ("success", in_transit, bank, p.result_at),
        ]
        if p.status == "RETURNED":
            steps.append(("returned", bank, payable, p.returned_at))
        for event, debit, credit, at in steps:
            assert at is not None
            drafts.append(
                Draft(
                    kind=f"instruction_{event}",
                    key=f"instruction:{p.instruction_id}:{event}",
                    region_code=p.region_code,
                    insutype=p.insutype,
                    fixmedins_code=CODE,
                    period=p.period,
                    lines=DraftLines().transfer(debit, credit, p.amount_fen).result(),
                    effective_at=at,
                    business_ref=f"instruction:{p.instruction_id}",
                )
            )
    ledger.post_many(session, drafts, now=NOW)


def _hospital_extras(session: Session) -> None:
    auth.create_user(
        session, name=PERSON, role="hospital", fixmedins_code=CODE, actor=BENCH_ADMIN, now=NOW
    )
    logins.set_password(session, name=PERSON, password=PASSWORD, actor=BENCH_ADMIN, now=NOW)
    session.add(
        AnnualClearing(
            year=2025,
            region_code="640100",
            insutype="310",
            fixmedins_code=CODE,
            status="COMPUTED",
            version=1,
            approved_fund_fen=1_000_000_00,
            clearing_amount_fen=1_000_000_00,
            settled_fen=940_000_00,
            deposit_held_fen=50_000_00,
            return_ratio_bp=10000,
            forfeited_fen=0,
            gross_fen=60_000_00,
            offset_fen=0,
            actual_fen=60_000_00,
            base={},
            computed_at=NOW - timedelta(days=300),
            computed_by="bench",
        )
    )
    settlement = session.scalar(
        select(Settlement)
        .where(Settlement.fixmedins_code == CODE)
        .order_by(Settlement.id.desc())
        .limit(1)
    )
    assert settlement is not None
    session.add(
        AuditItem(
            settlement_id=settlement.id,
            fixmedins_code=CODE,
            insutype=settlement.insutype,
            period=settlement.period,
            rule_code="R-OPEN",
            reason="bench: open to appeal",
            initial_amount_fen=1_000,
            result_date=date(2026, 11, 16),
            appeal_deadline=date(2026, 11, 23),
            status="INITIAL",
            created_at=NOW,
            created_by="bench",
        )
    )


def _pages(session: Session) -> list[tuple[str, str]]:
    def first(query: Any) -> int:
        found = session.scalar(query.limit(1))
        assert found is not None
        return int(found)

    statement = first(
        select(MonthlyStatement.id).where(
            MonthlyStatement.fixmedins_code == CODE, MonthlyStatement.insutype == "310"
        )
    )
    settlement = first(
        select(Settlement.id).where(Settlement.fixmedins_code == CODE).order_by(Settlement.id)
    )
    audit = first(
        select(AuditItem.id).where(AuditItem.fixmedins_code == CODE).order_by(AuditItem.id)
    )
    clearing = first(select(AnnualClearing.id).where(AnnualClearing.fixmedins_code == CODE))
    return [
        ("首页 (this month)", "/console/"),
        ("首页 (2026-10)", "/console/?month=2026-10"),
        ("结算明细", "/console/hospital/settlements"),
        ("结算明细, paid, 310", "/console/hospital/settlements?status=paid&insutype=310"),
        ("结算明细, a day", "/console/hospital/settlements?from=2026-10-15&to=2026-10-15"),
        ("结算明细 XLSX (300 rows)", "/console/hospital/settlements.xlsx"),
        ("trace", f"/console/hospital/settlements/{settlement}"),
        ("日拨付到账", "/console/hospital/daily"),
        ("日拨付到账, returned", "/console/hospital/daily?status=RETURNED"),
        ("月度结算单 list", "/console/hospital/statements"),
        ("月度结算单", f"/console/hospital/statements/{statement}"),
        ("月度结算确认单 (print)", f"/console/hospital/statements/{statement}/print"),
        ("月度结算单 XLSX", f"/console/hospital/statements/{statement}/export.xlsx"),
        ("审核扣款 list", "/console/hospital/audits"),
        ("审核扣款", f"/console/hospital/audits/{audit}"),
        ("年度清算 list", "/console/hospital/clearings"),
        ("年度清算", f"/console/hospital/clearings/{clearing}"),
        ("年度清算确认书 (print)", f"/console/hospital/clearings/{clearing}/print"),
        ("往来对账单 (2026-10)", "/console/hospital/account?from=2026-10-01&to=2026-11-16"),
        ("往来对账单 XLSX", "/console/hospital/account.xlsx?from=2026-10-01&to=2026-11-16"),
        ("对账与申报 (this month)", "/console/hospital/declarations"),
        ("对账与申报 (2026-10)", "/console/hospital/declarations?period=2026-10"),
    ]


def _log_in(client: TestClient) -> None:
    form = client.get("/console/login").text
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/console/login",
        data={"name": PERSON, "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _measure(client: TestClient, path: str, requests: int) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, bytes) of `requests` GETs after the warm-up."""
    for _ in range(WARM_UP):
        assert client.get(path).status_code == 200, path
    times = []
    size = 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        size = len(response.content)
    times.sort()
    p95 = times[max(0, -(-len(times) * 95 // 100) - 1)]
    return statistics.median(times), p95, size


def run(settlements: int, count: int, requests: int, keep: bool) -> None:
    with fresh_postgres(keep=keep) as url:
        if keep:
            print(f"database kept: {url}", file=sys.stderr, flush=True)
        seeded = _seed(url, settlements, count)
        print(f"seeded in {seeded:.0f} s")
        measure(url, requests)


def measure(url: str, requests: int) -> None:
    """Time every page on a seeded database (this bench's, kept with --keep)."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        pages = _pages(session)
        rows = {
            table: session.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("settlement", "daily_line", "monthly_statement", "ledger_posting")
        }
    app = create_app(
        Settings(environment="test", database_url=url),
        session_factory=factory,
        clock=SimulatedClock(NOW),
    )
    print("rows: " + ", ".join(f"{table} {n:,}" for table, n in rows.items()))
    print()
    print("| page | p50 | p95 | size |")
    print("|---|---|---|---|")
    worst = 0.0
    with TestClient(app) as client:
        _log_in(client)
        for name, path in pages:
            p50, p95, size = _measure(client, path, requests)
            worst = max(worst, p95)
            print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {size / 1024:.0f} KiB |")
    print()
    print(f"worst p95 {worst:.1f} ms (target ≤ {TARGET_P95_MS:.0f} ms)")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settlements", type=int, default=3_000_000)
    parser.add_argument("--institutions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the database (to inspect it)")
    parser.add_argument("--url", help="measure again on a database kept by an earlier run")
    args = parser.parse_args()
    if args.url:
        measure(args.url, args.requests)
    else:
        run(args.settlements, args.institutions, args.requests, args.keep)


if __name__ == "__main__":
    main()
