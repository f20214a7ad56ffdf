"""Prometheus metrics: `/metrics` (text exposition format, docs/operations.md).

Two kinds of figures:
- this process's own: request latency by method, route template and status (a histogram).
  With several API processes set PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess
  mode) and every process answers for all of them;
- read from the database when scraped, so the same from every process and covering the
  scheduler process too: job runs and their durations, bank instructions by status and the
  oldest unsent one's age, open alerts, journal entries per fund ledger and how many are not
  yet behind a balance snapshot.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders

from app.alerts.models import Alert
from app.bank.models import PaymentInstruction
from app.ledger import snapshots
from app.ops.logs import REQUEST_ID, REQUEST_ID_HEADER, accept_request_id
from app.scheduling.models import JobRun

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
PROCESS = CollectorRegistry(auto_describe=True)
UNMATCHED = "unmatched"  # a path no route serves: one label, whatever was asked
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # logged at DEBUG only
ACCESS = logging.getLogger("fundledger.access")
LOG = logging.getLogger("fundledger.metrics")

REQUEST_SECONDS = Histogram(
    "fundledger_http_request_duration_seconds",
    "HTTP requests by method, route template and status: time to the last byte sent",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=PROCESS,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def route_template(scope: Scope) -> str:
    """`/api/v1/ledger/accounts/{code}`: the matched route's path, never the raw path (its
    values would make a label per account, per settlement...)."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestMiddleware:
    """Request id in and out (`X-Request-ID`), one access log line, the latency histogram."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                sent = value.decode("latin-1")
                break
        request_id = accept_request_id(sent)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            # a label's values stay few: any method the service does not know is OTHER
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)
            # the path as sent (percent-encoded): a decoded newline could forge a log line
            raw = scope.get("raw_path")
            path = raw.decode("ascii", "backslashreplace") if raw else scope.get("path", "")
            ACCESS.log(
                logging.DEBUG if path in QUIET_PATHS else logging.INFO,
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            REQUEST_ID.reset(token)


# --- from the database, at each scrape ---------------------------------------------------


def _seconds(session: Session, start: Any, end: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def job_metrics(session: Session) -> Iterable[Metric]:
    runs = GaugeMetricFamily(
        "fundledger_job_runs",
        "Job runs recorded, by job and status (a failed date retried counts once, by its"
        " latest status; RUNNING is a run in progress or one whose process stopped)",
        labels=["job", "status"],
    )
    for job, status, count in session.execute(
        select(JobRun.job_name, JobRun.status, func.count()).group_by(
            JobRun.job_name, JobRun.status
        )
    ):
        runs.add_metric([job, status], count)
    yield runs
    durations = SummaryMetricFamily(
        "fundledger_job_run_duration_seconds",
        "Durations of the finished job runs (latest attempt of each)",
        labels=["job"],
    )
    seconds = cast(_seconds(session, JobRun.started_at, JobRun.finished_at), Float)
    for job, count, total in session.execute(
        select(JobRun.job_name, func.count(), func.coalesce(func.sum(seconds), 0.0))
        .where(JobRun.finished_at.is_not(None))
        .group_by(JobRun.job_name)
    ):
        durations.add_metric([job], count_value=count, sum_value=float(total))
    yield durations
    last_ids = select(func.max(JobRun.id)).group_by(JobRun.job_name)
    latest = session.execute(
        select(JobRun.job_name, JobRun.status, JobRun.finished_at).where(JobRun.id.in_(last_ids))
    ).all()
    failed = GaugeMetricFamily(
        "fundledger_job_last_run_failed", "1 when the latest run of the job failed", labels=["job"]
    )
    finished = GaugeMetricFamily(
        "fundledger_job_last_run_finished_timestamp_seconds",
        "When the latest finished run of the job ended (Unix time)",
        labels=["job"],
    )
    for job, status, finished_at in latest:
        failed.add_metric([job], 1.0 if status == "FAILED" else 0.0)
        if finished_at is not None:
            finished.add_metric([job], finished_at.timestamp())
    yield failed
    yield finished
    succeeded = GaugeMetricFamily(
        "fundledger_job_last_success_timestamp_seconds",
        "When the job last finished successfully (Unix time)",
        labels=["job"],
    )
    for job, at in session.execute(
        select(JobRun.job_name, func.max(JobRun.finished_at))
        .where(JobRun.status == "SUCCEEDED")
        .group_by(JobRun.job_name)
    ):
        if at is not None:
            succeeded.add_metric([job], _utc(at).timestamp())
    yield succeeded


def bank_metrics(session: Session, now: datetime) -> Iterable[Metric]:
    by_status = GaugeMetricFamily(
        "fundledger_bank_instructions",
        "Payment instructions by status (QUEUED: not taken by the bank yet)",
        labels=["status"],
    )
    counts = dict(
        session.execute(
            select(PaymentInstruction.status, func.count()).group_by(PaymentInstruction.status)
        ).all()
    )
    for status in ("QUEUED", "ACCEPTED", "SUCCESS", "FAILED", "RETURNED", "UNKNOWN"):
        by_status.add_metric([status], counts.get(status, 0))
    yield by_status
    oldest_unsent, oldest_open = session.execute(
        select(
            func.min(case((PaymentInstruction.status == "QUEUED", PaymentInstruction.created_at))),
            func.min(
                case(
                    (
                        PaymentInstruction.status.in_(("ACCEPTED", "UNKNOWN")),
                        func.coalesce(PaymentInstruction.sent_at, PaymentInstruction.created_at),
                    )
                )
            ),
        ).where(PaymentInstruction.status.in_(("QUEUED", "ACCEPTED", "UNKNOWN")))
    ).one()
    yield _age(
        "fundledger_bank_oldest_unsent_instruction_age_seconds",
        "Age of the oldest instruction the bank has not taken (QUEUED); 0 when none",
        oldest_unsent,
        now,
    )
    yield _age(
        "fundledger_bank_oldest_unresolved_instruction_age_seconds",
        "Age since sending of the oldest instruction without a final result (ACCEPTED or"
        " UNKNOWN); 0 when none",
        oldest_open,
        now,
    )


def _utc(value: datetime) -> datetime:
    """A timestamp read through an aggregate (min/max) comes back without the column type on
    SQLite: naive, UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _age(name: str, documentation: str, since: datetime | None, now: datetime) -> Metric:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], 0.0 if since is None else max(0.0, (now - _utc(since)).total_seconds()))
    return gauge


def alert_metrics(session: Session) -> Iterable[Metric]:
    open_alerts = GaugeMetricFamily(
        "fundledger_alerts_open",
        "Unresolved alerts by kind, and whether someone acknowledged them",
        labels=["kind", "acknowledged"],
    )
    acknowledged = case((Alert.acknowledged_at.is_(None), "false"), else_="true")
    for kind, ack, count in session.execute(
        select(Alert.kind, acknowledged, func.count())
        .where(Alert.resolved_at.is_(None))
        .group_by(Alert.kind, acknowledged)
    ):
        open_alerts.add_metric([kind, ack], count)
    yield open_alerts


def ledger_metrics(session: Session) -> Iterable[Metric]:
    entries = GaugeMetricFamily(
        "fundledger_ledger_entries", "Journal entries per fund ledger", labels=["fund"]
    )
    behind = GaugeMetricFamily(
        "fundledger_ledger_entries_since_snapshot",
        "Journal entries of a fund ledger later than its latest balance snapshot: what an"
        " as-of balance may have to add up (`ledger snapshot` brings it under the setting"
        " FUNDLEDGER_LEDGER_SNAPSHOT_EVERY)",
        labels=["fund"],
    )
    for fund in snapshots.entry_counts(session):
        entries.add_metric([fund.fund_key], fund.entries)
        behind.add_metric([fund.fund_key], fund.since_snapshot)
    yield entries
    yield behind


class _Families:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def database_families(session: Session, now: datetime) -> list[Metric]:
    started = time.perf_counter()
    families: list[Metric] = []
    up = GaugeMetricFamily("fundledger_database_up", "1 when the database answered the scrape")
    try:
        families.extend(job_metrics(session))
        families.extend(bank_metrics(session, now))
        families.extend(alert_metrics(session))
        families.extend(ledger_metrics(session))
        up.add_metric([], 1.0)
    except Exception:  # the scrape still answers: database_up 0 is the alert
        session.rollback()
        LOG.exception("metrics: the database did not answer")
        families = []
        up.add_metric([], 0.0)
    families.append(up)
    took = GaugeMetricFamily(
        "fundledger_metrics_database_seconds", "Time the scrape's database queries took"
    )
    took.add_metric([], time.perf_counter() - started)
    families.append(took)
    return families


def exposition(session: Session, now: datetime) -> bytes:
    """The text exposition: this process's (or all processes') figures, then the database's."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        own = generate_latest(registry)
    else:
        own = generate_latest(PROCESS)
    database = CollectorRegistry(auto_describe=False)
    database.register(_Families(database_families(session, now)))
    return own + generate_latest(database)
