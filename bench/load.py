"""Load bench (issue 20.6): the API under a region's peak mix, over loopback, open loop.

The service runs as `fundledger serve --workers 2` in a subprocess (uvicorn's workers on a
socket with TCP_NODELAY, the database pool of FUNDLEDGER_DB_* settings); the driver is one `httpx.AsyncClient` that issues requests at a constant
arrival rate whatever the answers do (open loop), so a request's latency is counted from the
moment it was due, queueing in the client included. Each level is bounded in time
(`--seconds`) and count (rate × seconds); at most `--cap` requests are in flight: one due
while the cap is reached is not sent and counts as `dropped`; one not answered within
`--timeout` counts as `timeout`.

The mix (`MIX`): 70 % single settlement uploads spread over the 200 hospitals (unique setl_ids,
`POST /api/v1/settlements`), 25 % list reads (a hospital's settlements, filtered by status or
date, its daily lines and statements; staff: daily batches, bank instructions), 5 % signed bank
callbacks (`POST /api/v1/bank/receipts`) of real instructions: the first delivery of a result
(applied, posted to the ledger) or, one time in three, the replay of one already delivered
(answered 200 from the inbox).

Set-up (not timed) through the project's services and jobs: migrations, region 640100 with
fund ledgers 310 and 390, 200 hospitals enrolled in both with a user and a token each, an
accountant with a token, money appropriated; settlement history over the last working days
(3 per hospital, fund ledger and day); the `daily_batch` job for every day up to yesterday, the
batches approved; the `submission` job on each past pay date, sending to the bank simulator in
process; the simulator's result callbacks of all but the last `--fresh-days` pay dates applied
(so lists have paid rows), the rest kept for the load.

Breaking point: the lowest rate at which the p99 latency of all requests exceeds `--p99-limit`
(1 s), or any request fails (an unexpected status, a transport error, a timeout, a drop), or the
achieved rate (answers with the expected status per second, first due to last answer) falls
below 95 % of the target.

Run: .venv/bin/python bench/load.py [--db URL] [--rates 50,200,500] [--seconds 30]
Without --db a fresh database is created and dropped (bench/common.py); with --db it must be
empty (`createdb -h 127.0.0.1 -U postgres fl_load`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

if __package__ in (None, ""):  # run as `python bench/load.py`: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psycopg
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from app import migrate
from app.auth import service as auth
from app.auth.principal import Principal
from app.bank import service as bank
from app.bank import signing
from app.bank.simgateway import SimulatorGateway
from app.bank.simulator import BankSimulator
from app.clock import SHANGHAI, SimulatedClock, at_shanghai, business_date
from app.config import DEV_BANK_SECRET, Settings
from app.daily import service as daily
from app.daily.models import DailyBatch
from app.daily.rules import BatchStatus
from app.db import make_engine, make_sessionmaker, transaction
from app.institutions import maintenance
from app.institutions.schemas import EnrollmentIn, InstitutionIn
from app.jobcontext import JobContext
from app.settlements import uploads
from app.treasury import service as treasury
from app.workdays.rules import WorkCalendar
from bench.common import BENCH_ADMIN, fresh_postgres, seed_region
from jobs.runner import run_job

REGION = "640100"
INSUTYPES: tuple[Literal["310", "390"], ...] = ("310", "390")
HOSPITALS = 200
PER_DAY = 3  # settlements per hospital, fund ledger and history day
ACCOUNTANTS = (Principal(None, "acc", "accountant"), Principal(None, "acc2", "accountant"))

# Request kinds and their share of the mix, in percent.
MIX: dict[str, int] = {
    "upload": 70,
    "list_settlements": 8,
    "list_settlements_filtered": 5,
    "list_daily_lines": 5,
    "list_statements": 2,
    "list_batches": 2,
    "list_instructions": 3,
    "callback": 5,
}
EXPECTED: dict[str, set[int]] = {kind: {200} for kind in MIX} | {"upload": {201}}
SERVED_APP = "app.main:create_served_app"  # what `fundledger serve` runs
REPLAY_SHARE = 1 / 3  # callbacks that replay a delivered event (when fresh ones remain)


# -- pure parts (tests/unit/test_bench_load.py) ------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0–100) of sorted values; NaN when there are none."""
    if not values:
        return math.nan
    assert 0 < q <= 100
    rank = math.ceil(q / 100 * len(values))
    return values[max(rank, 1) - 1]


def kind_counts(total: int, mix: dict[str, int]) -> dict[str, int]:
    """Split `total` requests by the mix's shares, largest remainders first: the counts add
    up to `total` exactly and each is within one of its share."""
    weight = sum(mix.values())
    exact = {kind: total * share / weight for kind, share in mix.items()}
    counts = {kind: math.floor(value) for kind, value in exact.items()}
    left = total - sum(counts.values())
    for kind in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[:left]:
        counts[kind] += 1
    return counts


def schedule(
    rate: float, seconds: float, mix: dict[str, int], seed: int = 1
) -> list[tuple[float, str]]:
    """The open-loop plan of one level: request i is due at i / rate seconds after the start
    (constant arrival rate), rate × seconds requests in all, the kinds in the mix's exact
    proportions in a seeded random order."""
    total = round(rate * seconds)
    kinds = [kind for kind, count in kind_counts(total, mix).items() for _ in range(count)]
    random.Random(seed).shuffle(kinds)
    return [(i / rate, kind) for i, kind in enumerate(kinds)]


@dataclass
class Sample:
    kind: str
    # the HTTP status, or "timeout", "transport:…", "dropped", "unsent", "unfinished"
    outcome: int | str
    latency_s: float | None  # from the moment it was due to the answer
    done_s: float | None  # the answer's time after the level's start


@dataclass
class KindSummary:
    kind: str
    count: int
    ok: int
    errors: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    achieved_per_s: float


@dataclass
class LevelSummary:
    rate: float
    seconds: float
    kinds: list[KindSummary]
    total: KindSummary
    late_dispatch: int = 0  # sent more than 50 ms after their due time (client lag)
    extra: dict[str, Any] = field(default_factory=dict)


def _summary(kind: str, samples: list[Sample], seconds: float) -> KindSummary:
    ok = [s for s in samples if s.outcome in EXPECTED.get(s.kind, {200})]
    errors = Counter(
        str(s.outcome) for s in samples if s.outcome not in EXPECTED.get(s.kind, {200})
    )
    latencies = sorted(s.latency_s * 1000 for s in samples if s.latency_s is not None)
    last = max((s.done_s for s in ok if s.done_s is not None), default=0.0)
    span = max(last, seconds)
    return KindSummary(
        kind=kind,
        count=len(samples),
        ok=len(ok),
        errors=dict(sorted(errors.items())),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else math.nan,
        achieved_per_s=len(ok) / span if span else 0.0,
    )


def summarize(rate: float, seconds: float, samples: list[Sample]) -> LevelSummary:
    """Per kind and in all: count, errors by status, latency percentiles (every request sent:
    errors included, a timeout with its time; drops have none), achieved rate = answers with the expected status over the
    time from the first due moment to the last such answer (at least the level's length)."""
    kinds = sorted({s.kind for s in samples}, key=lambda k: (-MIX.get(k, 0), k))
    return LevelSummary(
        rate=rate,
        seconds=seconds,
        kinds=[_summary(k, [s for s in samples if s.kind == k], seconds) for k in kinds],
        total=_summary("all", samples, seconds),
    )


def broken(level: LevelSummary, p99_limit_ms: float, min_share: float = 0.95) -> list[str]:
    """Why a level is past the breaking point (empty: it held)."""
    reasons = []
    if level.total.p99_ms > p99_limit_ms:
        reasons.append(f"p99 {level.total.p99_ms:,.0f} ms > {p99_limit_ms:,.0f} ms")
    failed = level.total.count - level.total.ok
    if failed:
        reasons.append(f"{failed} errors ({_errors(level.total.errors)})")
    if level.total.achieved_per_s < min_share * level.rate:
        reasons.append(
            f"achieved {level.total.achieved_per_s:,.1f}/s < {min_share:.0%} of {level.rate:g}/s"
        )
    return reasons


def breaking_point(
    levels: Iterable[LevelSummary], p99_limit_ms: float
) -> tuple[float, list[str]] | None:
    """The lowest rate that broke, with why; None when every level held."""
    for level in sorted(levels, key=lambda lv: lv.rate):
        reasons = broken(level, p99_limit_ms)
        if reasons:
            return level.rate, reasons
    return None


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{status}: {n}" for status, n in errors.items()) or "—"


# -- set-up ----------------------------------------------------------------------------------


@dataclass
class Fixture:
    codes: list[str]
    tokens: dict[str, str]  # hospital code → bearer token
    staff_token: str
    history_days: list[date]
    fresh: list[bytes]  # callback bodies not yet delivered (in the simulator's order)
    delivered: list[bytes]  # callback bodies delivered once (replays answer 200)
    counts: dict[str, int]


def _settlement(code: str, setl_id: str, insutype: str, moment: datetime, n: int) -> dict[str, str]:
    fund = 3000 + (n * 7919) % 5000
    return {
        "fixmedins_code": code,
        "setl_id": setl_id,
        "psn_no": f"P{n % 100_000:08d}",
        "insutype": insutype,
        "med_type": "21",
        "insuplc_admdvs": "640104",
        "setl_time": moment.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "medfee_sumamt": f"{fund + 2000}.00",
        "hifp_pay": f"{fund}.{n % 100:02d}",
        "hifob_pay": "100.00" if insutype == "310" else "0.00",
        "psn_cash_pay": "1000.00",
    }


def _body(event: dict[str, Any]) -> bytes:
    """A callback's bytes exactly as the simulator sends them (BankSimulator.signed)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def _step(clock: SimulatedClock, moment: datetime) -> None:
    if moment > clock.now():
        clock.set(moment)


def prepare(url: str, history: int, fresh_days: int, log: Any = print) -> Fixture:
    """Reference data, users and tokens, history, payments and their callbacks (see the
    module's docstring). Times are real: the last history day is before today's date."""
    started = time.perf_counter()
    calendar = WorkCalendar()
    today = business_date(datetime.now(UTC))
    days: list[date] = []
    day = today
    while len(days) < history:
        day -= timedelta(days=1)
        if calendar.is_working(day):
            days.append(day)
    days.reverse()
    clock = SimulatedClock(at_shanghai(days[0] - timedelta(days=3), datetime.min.time()))
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    codes = [f"H{i:04d}" for i in range(HOSPITALS)]
    tokens: dict[str, str] = {}
    with transaction(factory) as session:
        now = clock.now()
        seed_region(session, REGION, INSUTYPES, 0, now)
        for code in codes:
            maintenance.create_institution(
                session,
                InstitutionIn(
                    code=code,
                    name=f"医院 {code}",
                    level=3,
                    region_code=REGION,
                    bank_account=f"62220000{code[1:]}0001",
                    bank_account_name=f"医院 {code}",
                    bank_code="102871000011",
                    enrollments=[
                        EnrollmentIn(insutype=t, start_date=date(2026, 1, 1)) for t in INSUTYPES
                    ],
                ),
                actor=BENCH_ADMIN,
                now=now,
            )
            name = f"u{code}"
            auth.create_user(
                session, name=name, role="hospital", fixmedins_code=code, actor=BENCH_ADMIN, now=now
            )
            tokens[code] = auth.issue_token(session, name=name, actor=BENCH_ADMIN, now=now)[1]
        for accountant in ACCOUNTANTS:
            auth.create_user(
                session,
                name=accountant.name,
                role="accountant",
                fixmedins_code=None,
                actor=BENCH_ADMIN,
                now=now,
            )
        staff_token = auth.issue_token(session, name="acc", actor=BENCH_ADMIN, now=now)[1]
        for insutype in INSUTYPES:
            treasury.appropriate(
                session,
                region_code=REGION,
                insutype=insutype,
                amount_fen=10**13,
                reference=f"BK-LOAD-{insutype}",
                actor=ACCOUNTANTS[0],
                now=now,
            )
    log(
        f"  reference data, {HOSPITALS} hospitals, users, tokens: {time.perf_counter() - started:.0f} s"
    )
    n = 0
    for day in days:
        items = []
        for code in codes:
            for insutype in INSUTYPES:
                for k in range(PER_DAY):
                    n += 1
                    moment = at_shanghai(day, datetime.min.time()) + timedelta(
                        hours=8, minutes=n % 600
                    )
                    items.append(
                        _settlement(code, f"H{day:%m%d}{insutype}{k}", insutype, moment, n)
                    )
        _step(clock, at_shanghai(day, datetime.min.time()) + timedelta(hours=20))
        with transaction(factory) as session:
            outcomes = uploads.upload_bulk(session, items, actor=BENCH_ADMIN, now=clock.now())
        assert all(o.outcome == "created" for o in outcomes), outcomes[:3]
    log(f"  {n:,} settlements over {len(days)} days: {time.perf_counter() - started:.0f} s")
    settings = Settings(environment="test", database_url=url)
    sim = BankSimulator(secret=DEV_BANK_SECRET, clock=clock)
    ctx = JobContext(
        session_factory=factory,
        engine=engine,
        clock=clock,
        settings=settings,
        gateway=SimulatorGateway(sim, secret=DEV_BANK_SECRET),
    )
    day = days[0]
    while day < today:
        _step(
            clock, at_shanghai(day + timedelta(days=1), datetime.min.time()) + timedelta(minutes=30)
        )
        outcome = run_job(ctx, "daily_batch", day)
        assert outcome.status == "SUCCEEDED", outcome
        _step(clock, clock.now() + timedelta(hours=8, minutes=30))
        with transaction(factory) as session:
            for batch in session.scalars(select(DailyBatch).where(DailyBatch.business_date == day)):
                for accountant in ACCOUNTANTS:
                    if batch.status == BatchStatus.PUSHED:
                        daily.approve(session, batch.id, actor=accountant, now=clock.now())
        day += timedelta(days=1)
    log(f"  daily batches up to {today - timedelta(days=1)}: {time.perf_counter() - started:.0f} s")
    pay_days = days[1:]  # each pays the batches up to the working day before it
    delivered: list[bytes] = []
    fresh: list[bytes] = []
    for index, pay_day in enumerate(pay_days):
        _step(clock, at_shanghai(pay_day, datetime.min.time()) + timedelta(hours=14, minutes=30))
        before = len(sim.deliveries)
        outcome = run_job(ctx, "submission", pay_day)
        assert outcome.status == "SUCCEEDED", outcome
        events = [d.event for d in sim.deliveries[before:]]
        if index >= len(pay_days) - fresh_days:
            fresh += [_body(event) for event in events]
            continue
        _step(clock, clock.now() + timedelta(minutes=5))  # the results are due after 1 min
        for event in events:  # applied as the callback endpoint does (store, then apply)
            body = _body(event)
            with transaction(factory) as session:
                bank.store_event(session, event["event_id"], body, event, clock.now())
            with transaction(factory) as session:
                result = bank.apply_event(session, event["event_id"], clock.now())
            assert result.outcome == bank.EventOutcome.APPLIED, result
            delivered.append(body)
    log(
        f"  {len(delivered) + len(fresh):,} instructions sent on {len(pay_days)} pay dates, "
        f"{len(delivered):,} results applied, {len(fresh):,} kept for the load: "
        f"{time.perf_counter() - started:.0f} s"
    )
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("settlement", "daily_batch", "daily_line", "payment_instruction")
        }
    engine.dispose()
    return Fixture(codes, tokens, staff_token, days, fresh, delivered, counts)


# -- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(
    url: str,
    workers: int,
    limit_concurrency: int | None = None,
    factory: str = "app.main:create_served_app",
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = dict(
        os.environ,
        FUNDLEDGER_DATABASE_URL=url,
        FUNDLEDGER_LOG_LEVEL="WARNING",
        FUNDLEDGER_BANK_SECRET=DEV_BANK_SECRET,
    )
    if factory == SERVED_APP:  # as deployed: `fundledger serve --workers N`
        command = [sys.executable, "-m", "app", "serve", "--workers", str(workers)]
    else:  # an experiment's factory, served by uvicorn itself
        command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--workers", str(workers)]
        command += ["--log-level", "warning", "--no-access-log"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    if limit_concurrency:  # uvicorn answers 503 beyond this many connections and tasks
        command += ["--limit-concurrency", str(limit_concurrency)]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        yield base, process
    finally:
        workers_left = _children(process.pid)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # the workers may outlive the master for a while (requests still queued): the
        # database must not be dropped under them
        deadline = time.monotonic() + 30
        while (
            workers_left := [p for p in workers_left if _alive(p)]
        ) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in workers_left:
            os.kill(pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return children


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the uvicorn workers), from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for one in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{one}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


class WaitSampler:
    """Samples the database's backends (pg_stat_activity) every `every` seconds in a thread:
    what the service's connections are doing while a level runs (evidence, not a timing)."""

    def __init__(self, url: str, every: float = 0.25) -> None:
        self.url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.every = every
        self.samples = 0
        self.states: Counter[str] = Counter()
        self.waits: Counter[str] = Counter()
        self.idle_after: Counter[str] = Counter()  # idle in transaction: the last statement
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self._stop.wait(self.every):
                rows = connection.execute(
                    "SELECT state, wait_event_type, wait_event, left(query, 48)"
                    " FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'"
                ).fetchall()
                self.samples += 1
                for state, wait_type, wait, query in rows:
                    self.states[state or "?"] += 1
                    if state == "active":
                        self.waits[f"{wait_type}:{wait}" if wait_type else "CPU (no wait)"] += 1
                    elif state == "idle in transaction":
                        self.idle_after[" ".join((query or "").split())] += 1

    def summary(self) -> dict[str, Any]:
        n = max(self.samples, 1)
        return {
            "backends": {state: round(count / n, 1) for state, count in self.states.most_common()},
            "active_waits": {w: round(count / n, 1) for w, count in self.waits.most_common(6)},
            "idle_in_transaction_after": {
                q: round(count / n, 1) for q, count in self.idle_after.most_common(5)
            },
        }


# -- the driver ------------------------------------------------------------------------------


class Requests:
    """Builds each request when it is due (real time: setl_time and the callback's
    signature are of the moment)."""

    def __init__(self, fixture: Fixture, tag: str) -> None:
        self.fixture = fixture
        self.tag = tag
        self.seq = 0
        self.fresh = list(fixture.fresh)
        self.delivered = list(fixture.delivered)
        self.random = random.Random(7)
        self.statuses = ["accepted", "batched", "paid"]

    def _hospital(self) -> tuple[str, dict[str, str]]:
        code = self.fixture.codes[self.seq % len(self.fixture.codes)]
        return code, {"Authorization": f"Bearer {self.fixture.tokens[code]}"}

    def build(self, kind: str) -> tuple[str, str, dict[str, str], bytes | None]:
        self.seq += 1
        code, headers = self._hospital()
        staff = {"Authorization": f"Bearer {self.fixture.staff_token}"}
        if kind == "upload":
            insutype = INSUTYPES[self.seq % 2]
            moment = datetime.now(UTC) - timedelta(seconds=2)
            record = _settlement(code, f"L{self.tag}{self.seq:07d}", insutype, moment, self.seq)
            body = json.dumps(record).encode()
            return (
                "POST",
                "/api/v1/settlements",
                headers | {"content-type": "application/json"},
                body,
            )
        if kind == "list_settlements":
            return "GET", "/api/v1/settlements?limit=50", headers, None
        if kind == "list_settlements_filtered":
            if self.seq % 2:
                status = self.statuses[self.seq % 3]
                return "GET", f"/api/v1/settlements?status={status}&limit=50", headers, None
            day = self.fixture.history_days[self.seq % len(self.fixture.history_days)]
            return (
                "GET",
                f"/api/v1/settlements?setl_date={day}&insutype=310&limit=50",
                headers,
                None,
            )
        if kind == "list_daily_lines":
            return "GET", "/api/v1/daily-lines?limit=50", headers, None
        if kind == "list_statements":
            return "GET", "/api/v1/statements?limit=50", headers, None
        if kind == "list_batches":
            return (
                "GET",
                f"/api/v1/daily-batches?insutype={INSUTYPES[self.seq % 2]}&limit=50",
                staff,
                None,
            )
        if kind == "list_instructions":
            if self.seq % 2:
                return (
                    "GET",
                    f"/api/v1/bank/instructions?fixmedins_code={code}&limit=50",
                    staff,
                    None,
                )
            return "GET", "/api/v1/bank/instructions?status=SUCCESS&limit=50", staff, None
        assert kind == "callback"
        replay = not self.fresh or (self.delivered and self.random.random() < REPLAY_SHARE)
        if replay:
            body = self.random.choice(self.delivered)
        else:
            body = self.fresh.pop(0)
            self.delivered.append(body)
        event_id = json.loads(body)["event_id"]
        signed = signing.headers(DEV_BANK_SECRET, event_id, datetime.now(UTC), body)
        return "POST", "/api/v1/bank/receipts", signed | {"content-type": "application/json"}, body


async def drive(
    base: str,
    plan: list[tuple[float, str]],
    requests: Requests,
    *,
    seconds: float,
    cap: int,
    timeout: float,
) -> tuple[list[Sample], dict[str, Any]]:
    """Issue the plan open loop; returns the samples and the level's client-side figures."""
    loop = asyncio.get_running_loop()
    samples: list[Sample] = []
    in_flight = 0
    late = 0
    limits = httpx.Limits(max_connections=cap, max_keepalive_connections=cap)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        start = loop.time() + 0.5

        async def one(kind: str, due: float) -> None:
            nonlocal in_flight
            method, path, headers, body = requests.build(kind)
            try:
                response = await client.request(method, path, headers=headers, content=body)
                outcome: int | str = response.status_code
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.TransportError as error:
                outcome = f"transport:{type(error).__name__}"
            except asyncio.CancelledError:
                samples.append(Sample(kind, "unfinished", None, None))
                raise
            finally:
                in_flight -= 1
            done = loop.time()
            samples.append(Sample(kind, outcome, done - due, done - start))

        tasks = []
        for offset, kind in plan:
            due = start + offset
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if loop.time() > start + seconds + timeout:  # bounded in time: the rest not sent
                samples.append(Sample(kind, "unsent", None, None))
                continue
            if in_flight >= cap:
                samples.append(Sample(kind, "dropped", None, None))
                continue
            if loop.time() - due > 0.05:
                late += 1
            in_flight += 1
            tasks.append(asyncio.create_task(one(kind, due)))
        if tasks:
            await asyncio.wait(tasks, timeout=timeout + 5)
        for task in tasks:
            task.cancel()
    return samples, {"late_dispatch": late}


@dataclass
class Floor:
    kind: str
    count: int
    p50_ms: float
    p95_ms: float
    server_cpu_ms: float  # the uvicorn processes' CPU per request


def measure_floor(base: str, server_pid: int, requests: Requests, count: int) -> list[Floor]:
    """Each kind `count` times, one request at a time (closed loop, no concurrency): the
    latency floor and the server's CPU per request, which bound the rate the service can
    take on this machine (cores ÷ CPU per request)."""
    floors = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for kind in MIX:
            for _ in range(10):  # warm-up (both workers): not counted
                method, path, headers, body = requests.build(kind)
                client.request(method, path, headers=headers, content=body)
            took = []
            cpu = _cpu_seconds(server_pid)
            for _ in range(count):
                method, path, headers, body = requests.build(kind)
                start = time.perf_counter()
                response = client.request(method, path, headers=headers, content=body)
                took.append((time.perf_counter() - start) * 1000)
                assert response.status_code in EXPECTED[kind], (kind, response.text[:300])
            cpu = (_cpu_seconds(server_pid) - cpu) * 1000 / count
            took.sort()
            floors.append(Floor(kind, count, percentile(took, 50), percentile(took, 95), cpu))
    return floors


def mix_cpu_ms(floors: Sequence[Floor], mix: dict[str, int]) -> float:
    """The server's CPU per request of the mix: each kind's weighted by its share."""
    weight = sum(mix.values())
    return sum(f.server_cpu_ms * mix[f.kind] / weight for f in floors)


def run_level(
    base: str,
    server_pid: int,
    fixture: Fixture,
    requests: Requests,
    rate: float,
    args: argparse.Namespace,
) -> LevelSummary:
    plan = schedule(rate, args.seconds, MIX, seed=int(rate))
    load_before = os.getloadavg()[0]
    cpu_server, cpu_client = _cpu_seconds(server_pid), time.process_time()
    wall = time.perf_counter()
    with WaitSampler(args.url) as sampler:
        samples, extra = asyncio.run(
            drive(base, plan, requests, seconds=args.seconds, cap=args.cap, timeout=args.timeout)
        )
    wall = time.perf_counter() - wall
    level = summarize(rate, args.seconds, samples)
    level.late_dispatch = extra["late_dispatch"]
    level.extra = {
        "wall_s": wall,
        "server_cpu_share": (_cpu_seconds(server_pid) - cpu_server) / wall,
        "client_cpu_share": (time.process_time() - cpu_client) / wall,
        "load_average_1m": (load_before, os.getloadavg()[0]),
        "database": sampler.summary(),
    }
    return level


# -- output ----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def table(levels: list[LevelSummary]) -> str:
    lines = [
        "| target/s | kind | count | ok | errors | p50 ms | p95 ms | p99 ms | max ms | achieved/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level in levels:
        for row in [level.total, *level.kinds]:
            name = f"**{row.kind}**" if row.kind == "all" else row.kind
            lines.append(
                f"| {level.rate:g} | {name} | {row.count:,} | {row.ok:,} | {_errors(row.errors)}"
                f" | {_ms(row.p50_ms)} | {_ms(row.p95_ms)} | {_ms(row.p99_ms)} | {_ms(row.max_ms)}"
                f" | {row.achieved_per_s:,.1f} |"
            )
    return "\n".join(lines)


def _pairs(values: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in values.items()) or "—"


def _as_dict(level: LevelSummary) -> dict[str, Any]:
    def kind(row: KindSummary) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in vars(row).items()
        }

    return {
        "rate": level.rate,
        "seconds": level.seconds,
        "total": kind(level.total),
        "kinds": [kind(row) for row in level.kinds],
        "late_dispatch": level.late_dispatch,
        **level.extra,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="an empty PostgreSQL database (default: a fresh one, dropped)")
    parser.add_argument("--rates", default="50,200,500", help="requests/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=30, help="length of each level (≤ 30)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cap", type=int, default=256, help="requests in flight at most")
    parser.add_argument("--timeout", type=float, default=10, help="a request's timeout (s)")
    parser.add_argument("--p99-limit", type=float, default=1000, help="breaking p99 (ms)")
    parser.add_argument("--history", type=int, default=8, help="working days of history")
    parser.add_argument("--fresh-days", type=int, default=2, help="pay dates kept for the load")
    parser.add_argument(
        "--limit-concurrency",
        type=int,
        help="uvicorn's --limit-concurrency (per worker; default: none, as deployed)",
    )
    parser.add_argument(
        "--app",
        default=SERVED_APP,
        help="the application factory (default: `fundledger serve`'s; another one is served "
        "by `uvicorn --factory`, for experiments)",
    )
    parser.add_argument(
        "--floor", type=int, default=50, help="requests per kind one at a time first (0: none)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    assert args.seconds <= 30, "keep each level ≤ 30 s: the machine is shared"

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with _database(args.db) as url:
        log("set-up:")
        fixture = prepare(url, args.history, args.fresh_days, log)
        log(f"  rows: {fixture.counts}")
        requests = Requests(fixture, tag=f"{datetime.now(UTC):%H%M%S}")
        args.url = url
        levels = []
        with server(url, args.workers, args.limit_concurrency, args.app) as (base, process):
            floors = measure_floor(base, process.pid, requests, args.floor) if args.floor else []
            for rate in rates:
                log(f"level {rate:g}/s for {args.seconds:g} s …")
                level = run_level(base, process.pid, fixture, requests, rate, args)
                levels.append(level)
                log(table([level]))
                log(f"  {level.extra} late dispatches: {level.late_dispatch}")
    limit = f", --limit-concurrency {args.limit_concurrency}" if args.limit_concurrency else ""
    print(
        f"\n{len(fixture.codes)} hospitals, fundledger serve --workers {args.workers}{limit}, {args.seconds:g} s per level, "
        f"cap {args.cap} in flight, timeout {args.timeout:g} s; set-up rows {fixture.counts}\n"
    )
    if floors:
        print("| kind, one request at a time | count | p50 ms | p95 ms | server CPU per request |")
        print("|---|---|---|---|---|")
        for f in floors:
            print(
                f"| {f.kind} | {f.count} | {_ms(f.p50_ms)} | {_ms(f.p95_ms)} | {f.server_cpu_ms:.1f} ms |"
            )
        cpu = mix_cpu_ms(floors, MIX)
        cores = os.cpu_count() or 1
        print(
            f"\nthe mix: {cpu:.1f} ms of server CPU per request; {cores} cores ÷ that ="
            f" {cores * 1000 / cpu:,.0f} requests/s at most for the service alone (PostgreSQL"
            " and the driver share the same cores)\n"
        )
    print(table(levels))
    print()
    print(
        "| target/s | late dispatches (> 50 ms) | server CPU (cores) | driver CPU (cores)"
        " | load average 1 min (before → after) | database backends (mean) | active backends waiting on (mean) |"
    )
    print("|---|---|---|---|---|---|---|")
    for level in levels:
        before, after = level.extra["load_average_1m"]
        database = level.extra["database"]
        print(
            f"| {level.rate:g} | {level.late_dispatch:,} | {level.extra['server_cpu_share']:.2f}"
            f" | {level.extra['client_cpu_share']:.2f} | {before:.1f} → {after:.1f}"
            f" | {_pairs(database['backends'])} | {_pairs(database['active_waits'])} |"
        )
    point = breaking_point(levels, args.p99_limit)
    if point is None:
        print(f"\nbreaking point: not reached up to {max(rates):g}/s")
    else:
        print(f"\nbreaking point: {point[0]:g}/s ({'; '.join(point[1])})")
    if args.json:
        figures = {"floor": [vars(f) for f in floors], "levels": [_as_dict(lv) for lv in levels]}
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url is None:
        with fresh_postgres() as fresh:
            yield fresh
        return
    engine = make_engine(url)
    tables = inspect(engine).get_table_names()
    engine.dispose()
    if tables:
        raise SystemExit(f"{url} is not empty ({len(tables)} tables): give a fresh database")
    migrate.upgrade(url)
    yield url


if __name__ == "__main__":
    sys.exit(main())
