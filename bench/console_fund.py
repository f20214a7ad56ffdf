"""Console bench, the fund accountant's pages (issue 18), PostgreSQL: the approval queue with
10,000 institutions' documents pending.

Seeding (not timed), reusing bench.monthly's: region 640100, fund ledgers 310 and 390, M
institutions enrolled in both, N settlements of 2026-10 (COPY) with their daily batch,
instructions, audits and advances, then `statements.compute_due` for both fund ledgers (2 × M
statements of 2026-10, the real computation), all confirmed by the hospitals; 500 of them
approved over the last ten days and failed at the bank (waiting for re-approval); M annual
clearings of 2025 confirmed (fund 310); the daily batch of 2026-11-16 of each fund ledger
(`daily.generate` over one settlement per institution: M lines each), pushed. An accountant
with a console password.

Timed: GET of each page through the ASGI app in process (the console's own stack: session
cookie, CSRF, one transaction, Jinja rendering; no network), warm, REQUESTS times each,
p50 / p95 / max, and the number of SQL statements per request.

Run: .venv/bin/python -m bench.console_fund [--settlements 200000] [--institutions 10000]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from app.auth import logins
from app.auth import service as auth
from app.clock import SimulatedClock
from app.config import Settings
from app.daily import service as daily
from app.db import make_engine, make_sessionmaker, transaction
from app.institutions import service as institutions
from app.main import create_app
from app.settlements.uploads import SETTLEMENT
from app.workdays.rules import WorkCalendar
from bench import monthly
from bench.common import BENCH_ADMIN, Timer, fresh_postgres

TODAY = monthly.TODAY  # Tue 2026-11-17
NOW = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NOVEMBER_DAY = date(2026, 11, 16)
FAILED = 500
REQUESTS = 100
WARM_UP = 5
PASSWORD = "bench-console-1"
TARGET_P95_MS = 300.0


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def _november_batches(engine: Engine, factory: Any, count: int) -> None:
    """One settlement per institution and fund ledger on 16 Nov (copies of October's first
    2 × M rows), then each fund ledger's batch of that day: M lines, pushed."""
    columns = [c.name for c in SETTLEMENT.columns]
    changed = {
        "id": "id + :shift",
        "setl_id": "'N' || setl_id",
        "setl_time": "setl_time + (DATE '2026-11-16' - setl_date) * interval '1 day'",
        "setl_date": "DATE '2026-11-16'",
        "batch_date": "DATE '2026-11-16'",
        "period": "'2026-11'",
        "uploaded_at": "uploaded_at + (DATE '2026-11-16' - setl_date) * interval '1 day'",
    }
    select_list = ", ".join(changed.get(name, name) for name in columns)
    with engine.begin() as connection:
        shift = connection.execute(text("SELECT max(id) FROM settlement")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO settlement_key (id, fixmedins_code, setl_id, period)"
                " SELECT id + :shift, fixmedins_code, 'N' || setl_id, '2026-11'"
                " FROM settlement WHERE id <= :rows"
            ),
            {"shift": shift, "rows": 2 * count},
        )
        connection.execute(
            text(
                f"INSERT INTO settlement ({', '.join(columns)}) SELECT {select_list}"
                " FROM settlement WHERE id <= :rows"
            ),
            {"shift": shift, "rows": 2 * count},
        )
        connection.execute(
            text("SELECT setval('settlement_id_seq', (SELECT max(id) FROM settlement))")
        )
    for insutype in monthly.INSUTYPES:
        with transaction(factory) as session:
            fund = institutions.get_fund_ledger(session, monthly.REGION, insutype)
            batch = daily.generate(
                session,
                fund,
                NOVEMBER_DAY,
                now=datetime(2026, 11, 16, 16, 30, tzinfo=UTC),
                calendar=WorkCalendar(),
            )
            assert batch is not None and batch.status == "PUSHED" and batch.line_count == count


def _documents(engine: Engine, count: int) -> None:
    """Statements confirmed, FAILED of them failed at the bank, M clearings of 2025."""
    with engine.begin() as connection:
        run = connection.execute
        run(
            text(
                "UPDATE monthly_statement SET status = 'CONFIRMED', confirmed_at = :at,"
                " confirmed_by = 'hospital'"
            ),
            {"at": datetime(2026, 11, 17, 1, 0, tzinfo=UTC)},
        )
        run(
            text(
                "UPDATE monthly_statement SET status = 'FAILED', approved_by = 'bench-acc2',"
                " approved_at = :at - (id % 10) * interval '1 day'"
                " WHERE id IN (SELECT id FROM monthly_statement ORDER BY id DESC LIMIT :n)"
            ),
            {"n": FAILED, "at": datetime(2026, 11, 16, 2, 0, tzinfo=UTC)},
        )
        run(
            text(
                "INSERT INTO annual_rule (year, assessment_bands, credit_bands, start_date,"
                " deadline, recorded_at, recorded_by) VALUES (2025, '[[0, 10000]]',"
                " '[[0, 10000]]', DATE '2026-01-10', DATE '2026-05-31', :at, 'bench')"
            ),
            {"at": datetime(2026, 1, 2, tzinfo=UTC)},
        )
        run(
            text(
                "INSERT INTO annual_clearing (year, region_code, insutype, fixmedins_code,"
                " status, version, approved_fund_fen, clearing_amount_fen, settled_fen,"
                " deposit_held_fen, return_ratio_bp, forfeited_fen, gross_fen, offset_fen,"
                " actual_fen, base, computed_at, computed_by, confirmed_at, confirmed_by)"
                " SELECT 2025, :region, '310', code, 'CONFIRMED', 1, 100000000, 100000000,"
                " 95000000, 5000000, 10000, 0, 5000000, 0, 5000000, '{}', :at, 'system',"
                " :at, 'hospital' FROM institution"
            ),
            {"region": monthly.REGION, "at": datetime(2026, 1, 12, tzinfo=UTC)},
        )
    assert count > 0


def seed(url: str, settlements: int, count: int) -> dict[str, int]:
    timer = Timer()
    monthly._seed(url, settlements, count, "single")
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    created = monthly._compute_all(factory, keep=True)
    assert sum(len(ids) for ids in created.values()) == 2 * count
    print(f"statements computed at {timer.seconds:.0f} s", file=sys.stderr, flush=True)
    _november_batches(engine, factory, count)
    _documents(engine, count)
    with transaction(factory) as session:
        for name in ("bench-acc", "bench-acc2"):
            auth.create_user(
                session,
                name=name,
                role="accountant",
                fixmedins_code=None,
                actor=BENCH_ADMIN,
                now=NOW,
            )
            logins.set_password(session, name=name, password=PASSWORD, actor=BENCH_ADMIN, now=NOW)
    with engine.connect() as connection:
        pending = {
            "statements": connection.execute(
                text("SELECT count(*) FROM monthly_statement WHERE status = 'CONFIRMED'")
            ).scalar_one(),
            "failed statements": connection.execute(
                text("SELECT count(*) FROM monthly_statement WHERE status = 'FAILED'")
            ).scalar_one(),
            "clearings": connection.execute(
                text("SELECT count(*) FROM annual_clearing WHERE status = 'CONFIRMED'")
            ).scalar_one(),
            "batches": connection.execute(
                text("SELECT count(*) FROM daily_batch WHERE status = 'PUSHED'")
            ).scalar_one(),
            "lines of pushed batches": connection.execute(
                text(
                    "SELECT count(*) FROM daily_line l JOIN daily_batch b ON b.id = l.batch_id"
                    " WHERE b.status = 'PUSHED'"
                )
            ).scalar_one(),
        }
    engine.dispose()
    with make_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"seeding done in {timer.seconds:.0f} s: {pending}", file=sys.stderr, flush=True)
    return {key: int(value) for key, value in pending.items()}


def _time(client: TestClient, engine: Engine, path: str) -> dict[str, Any]:
    statements: list[int] = []

    def count(*args: Any) -> None:
        statements[-1] += 1

    for _ in range(WARM_UP):
        assert client.get(path).status_code == 200, path
    seconds = []
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(REQUESTS):
            statements.append(0)
            started = time.perf_counter()
            response = client.get(path)
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    seconds.sort()
    return {
        "path": path,
        "p50_ms": statistics.median(seconds) * 1000,
        "p95_ms": seconds[int(len(seconds) * 0.95) - 1] * 1000,
        "max_ms": seconds[-1] * 1000,
        "statements": max(statements),
        "bytes": len(response.content),
    }


def measure(url: str) -> list[dict[str, Any]]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    app = create_app(
        Settings(environment="test", database_url=url),
        session_factory=factory,
        clock=SimulatedClock(NOW),
    )
    with TestClient(app) as client:
        page = client.get("/console/login")
        client.post(
            "/console/login",
            data={"name": "bench-acc", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        queue = client.get("/console/fund/queue").text
        next_url = queue.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
        with engine.connect() as connection:
            batch_id = connection.execute(
                text("SELECT min(id) FROM daily_batch WHERE status = 'PUSHED'")
            ).scalar_one()
            statement_id = connection.execute(
                text("SELECT min(id) FROM monthly_statement WHERE status = 'CONFIRMED'")
            ).scalar_one()
        paths = [
            "/console/fund/queue",
            next_url.replace("&amp;", "&"),
            "/console/fund/queue?kind=statement&insutype=390",
            "/console/",
            f"/console/fund/batches/{batch_id}",
            f"/console/fund/statements/{statement_id}",
            "/console/fund/payments",
            "/console/fund/funds",
        ]
        results = [_time(client, engine, path) for path in paths]
    engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settlements", type=int, default=200_000)
    parser.add_argument("--institutions", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    arguments = parser.parse_args()
    with fresh_postgres(keep=arguments.keep) as url:
        if arguments.keep:
            print(f"database kept: {url}", file=sys.stderr, flush=True)
        pending = seed(url, arguments.settlements, arguments.institutions)
        results = measure(url)
    print(f"\npending: {pending}\n")
    print("| page | p50 | p95 | max | SQL statements | HTML |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| `{r['path'][:70]}` | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms"
            f" | {r['max_ms']:.1f} ms | {r['statements']} | {r['bytes'] // 1024} KiB |"
        )
    queue_p95 = results[0]["p95_ms"]
    verdict = "met" if queue_p95 <= TARGET_P95_MS else "NOT met"
    print(f"\nqueue p95 {queue_p95:.1f} ms: ≤ {TARGET_P95_MS:.0f} ms {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
