"""Ingest benchmark (issue 5): settlements through the bulk HTTP endpoint against the limit of
raw executemany into the same table (same indexes), on SQLite and PostgreSQL.

The service runs as a real uvicorn server in a subprocess (one worker); the client posts
pre-encoded 5,000-item bodies over loopback with httpx, one request at a time per client
thread. Seeding of reference data is not timed.

Run: .venv/bin/python -m bench.ingest [--settlements 200000] [--db postgresql|sqlite] [--clients 1]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from app import migrate
from app.auth import service as auth
from app.auth.principal import Principal
from app.db import make_engine, make_sessionmaker, transaction
from app.institutions import maintenance
from app.institutions.schemas import EnrollmentIn, InstitutionIn
from app.money import apply_ratio
from bench.common import Timer, fresh_postgres, seed_region

BATCH = 5000
INSTITUTIONS = 40
ADMIN = Principal(None, "bench", "admin")
NOW = datetime(2026, 10, 1, tzinfo=UTC)


def _seed(url: str) -> dict[str, str]:
    factory = make_sessionmaker(make_engine(url))
    tokens = {}
    with transaction(factory) as session:
        seed_region(session, "640100", ("310",), 0, NOW)
        for i in range(INSTITUTIONS):
            code = f"H{i:04d}"
            maintenance.create_institution(
                session,
                InstitutionIn(
                    code=code,
                    name=code,
                    level=3,
                    region_code="640100",
                    bank_account="6222000000000001",
                    bank_account_name=code,
                    bank_code="102871000011",
                    enrollments=[EnrollmentIn(insutype="310", start_date=date(2026, 1, 1))],
                ),
                actor=ADMIN,
                now=NOW,
            )
            auth.create_user(
                session, name=f"u{code}", role="hospital", fixmedins_code=code, actor=ADMIN, now=NOW
            )
            tokens[code] = auth.issue_token(session, name=f"u{code}", actor=ADMIN, now=NOW)[1]
    return tokens


def _record(i: int) -> dict[str, str]:
    setl_time = NOW + timedelta(seconds=i * 7)
    return {
        "fixmedins_code": f"H{(i // BATCH) % INSTITUTIONS:04d}",
        "setl_id": f"S{i:09d}",
        "psn_no": f"P{i:08d}",
        "insutype": "310",
        "med_type": "21",
        "insuplc_admdvs": "640104",
        "setl_time": setl_time.isoformat(),
        "medfee_sumamt": "12000.00",
        "hifp_pay": f"{5000 + i % 3000}.{i % 100:02d}",
        "hifob_pay": "100.00",
        "psn_cash_pay": "1000.00",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_run(url: str, total: int, clients: int, workers: int) -> float:
    tokens = _seed(url)
    bodies = []
    for start in range(0, total, BATCH):
        items = [_record(i) for i in range(start, min(total, start + BATCH))]
        bodies.append((items[0]["fixmedins_code"], json.dumps({"items": items}).encode()))
    port = _free_port()
    env = dict(os.environ, FUNDLEDGER_DATABASE_URL=url, FUNDLEDGER_LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.main:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        queue = list(bodies)
        lock = threading.Lock()
        failures: list[str] = []

        def client() -> None:
            with httpx.Client(base_url=base, timeout=300) as http:
                while True:
                    with lock:
                        if not queue:
                            return
                        code, body = queue.pop(0)
                    response = http.post(
                        "/api/v1/settlements/bulk",
                        content=body,
                        headers={
                            "Authorization": f"Bearer {tokens[code]}",
                            "content-type": "application/json",
                        },
                    )
                    if response.status_code != 200 or response.json()["created"] != BATCH:
                        failures.append(response.text[:300])

        timer = Timer()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = timer.seconds
        assert not failures, failures[:2]
        return seconds
    finally:
        server.terminate()
        server.wait(timeout=30)


def _raw_run(url: str, total: int) -> float:
    _seed(url)
    engine = make_engine(url)
    columns = [
        "id",
        "fixmedins_code",
        "setl_id",
        "psn_no",
        "insutype",
        "med_type",
        "insuplc_admdvs",
        "setl_time",
        "setl_date",
        "medfee_sumamt_fen",
        "hifp_pay_fen",
        "hifob_pay_fen",
        "fund_amount_fen",
        "psn_cash_pay_fen",
        "region_code",
        "period",
        "batch_date",
        "ratio_bp",
        "daily_amount_fen",
        "content_hash",
        "uploaded_at",
        "uploaded_by",
    ]
    rows = []
    for i in range(total):
        r = _record(i)
        setl_time = datetime.fromisoformat(r["setl_time"])
        hifp = int(r["hifp_pay"].replace(".", ""))
        rows.append(
            (
                i + 1,
                r["fixmedins_code"],
                r["setl_id"],
                r["psn_no"],
                "310",
                "21",
                "640104",
                setl_time,
                setl_time.date(),
                1200000,
                hifp,
                10000,
                hifp + 10000,
                100000,
                "640100",
                "2026-10",
                setl_time.date(),
                6000,
                apply_ratio(hifp + 10000, 6000),
                "0" * 64,
                NOW,
                "raw",
            )
        )
    postgres = url.startswith("postgresql")
    placeholders = ", ".join(["%s" if postgres else "?"] * len(columns))
    sql = f"INSERT INTO settlement ({', '.join(columns)}) VALUES ({placeholders})"
    # the key rows first, as the app writes them (migration 0032: settlement_key)
    key_sql = "INSERT INTO settlement_key (id, fixmedins_code, setl_id, period) VALUES " + (
        "(%s, %s, %s, %s)" if postgres else "(?, ?, ?, ?)"
    )
    keys = [(row[0], row[1], row[2], "2026-10") for row in rows]
    if not postgres:
        rows = [
            tuple(v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row)
            for row in rows
        ]
    timer = Timer()
    for start in range(0, total, BATCH):
        with engine.begin() as connection:
            cursor = connection.connection.driver_connection.cursor()
            cursor.executemany(key_sql, keys[start : start + BATCH])
            cursor.executemany(sql, rows[start : start + BATCH])
    seconds = timer.seconds
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM settlement")).scalar_one() == total
    engine.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settlements", type=int, default=200_000)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    results = {}
    for kind in ("http", "raw"):
        if args.db == "postgresql":
            with fresh_postgres() as url:
                results[kind] = (
                    _http_run(url, args.settlements, args.clients, args.workers)
                    if kind == "http"
                    else _raw_run(url, args.settlements)
                )
        else:
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'bench.db'}"
                migrate.upgrade(url)
                results[kind] = (
                    _http_run(url, args.settlements, args.clients, args.workers)
                    if kind == "http"
                    else _raw_run(url, args.settlements)
                )
    http_rate = args.settlements / results["http"]
    raw_rate = args.settlements / results["raw"]
    print(
        f"| {args.db} | bulk HTTP (uvicorn {args.workers} worker, {args.clients} client) | {args.settlements:,} | "
        f"{results['http']:.1f} s | {http_rate:,.0f}/s |"
    )
    print(
        f"| {args.db} | raw executemany | {args.settlements:,} | {results['raw']:.1f} s | {raw_rate:,.0f}/s |"
    )
    print(f"| {args.db} | ratio HTTP / raw | | | {http_rate / raw_rate:.2f} |")


if __name__ == "__main__":
    main()
