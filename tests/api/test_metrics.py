"""`/metrics` (issue 20.7): scraped in the Prometheus text format, staff only; request ids in
and out; JSON log lines carrying the request id, into the jobs a request runs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from app.alerts.service import raise_alert
from app.bank.models import PaymentInstruction
from app.clock import SimulatedClock
from app.jobcontext import JobContext
from app.ledger import service as ledger
from app.ops.logs import JsonFormatter, RequestIdFilter
from app.scheduling.models import JobRun
from jobs.registry import JOBS
from tests.support import builders
from tests.support.builders import bearer
from tests.support.ledger import acct, transfer_draft


def _scrape(client: TestClient, headers: dict[str, str]) -> dict[str, list[Any]]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def _value(samples: dict[str, list[Any]], name: str, **labels: str) -> float:
    found = [
        s.value
        for s in samples.get(name, [])
        if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (name, labels, samples.get(name))
    return float(found[0])


def _instruction(number: int, status: str, created_at: Any, **more: Any) -> PaymentInstruction:
    return PaymentInstruction(
        instruction_id=f"I{number:08d}",
        kind="daily",
        region_code="640100",
        insutype="310",
        fixmedins_code="H001",
        amount_fen=100,
        payer_account="1",
        payer_name="fund",
        payee_account="2",
        payee_name="hospital",
        payee_bank_code="102",
        purpose="test",
        requested_date=date(2026, 3, 6),
        status=status,
        source_kind="daily_line",
        source_id=number,
        created_at=created_at,
        **more,
    )


@pytest.fixture
def staff(session: Session) -> dict[str, str]:
    headers = bearer(builders.user_token(session, "prometheus", "auditor"))
    session.commit()
    return headers


def test_metrics_are_scraped_with_request_latency_and_database_figures(
    client: TestClient, session: Session, clock: SimulatedClock, staff: dict[str, str]
) -> None:
    now = clock.now()
    session.add_all(
        [
            _instruction(1, "QUEUED", now - timedelta(minutes=90)),
            _instruction(2, "QUEUED", now - timedelta(minutes=5)),
            _instruction(3, "SUCCESS", now - timedelta(days=1)),
            _instruction(4, "UNKNOWN", now - timedelta(hours=3), sent_at=now - timedelta(hours=2)),
            JobRun(
                job_name="daily_batch",
                business_date=date(2026, 3, 5),
                status="SUCCEEDED",
                started_at=now - timedelta(seconds=30),
                finished_at=now - timedelta(seconds=20),
                runner="test",
            ),
            JobRun(
                job_name="daily_batch",
                business_date=date(2026, 3, 6),
                status="FAILED",
                started_at=now - timedelta(seconds=10),
                finished_at=now - timedelta(seconds=6),
                runner="test",
            ),
        ]
    )
    raise_alert(session, kind="bank_unknown", subject="I00000004", detail="?", now=now)
    for index in range(3):
        draft = transfer_draft(f"m{index}", acct("bank"), acct("appropriation"), 100)
        ledger.post(session, draft, now=now)
    session.commit()

    assert client.get("/api/v1/ledger/accounts", headers=staff).status_code == 200
    assert client.get("/api/v1/ledger/accounts/bank:640100:310", headers=staff).status_code == 200
    assert client.get("/api/v1/no/such/thing/42", headers=staff).status_code == 404
    samples = _scrape(client, staff)

    histogram = "fundledger_http_request_duration_seconds_count"
    assert _value(samples, histogram, route="/api/v1/ledger/accounts", status="200") >= 1
    # the route template, never the raw path: one series however many accounts are read
    assert _value(samples, histogram, route="/api/v1/ledger/accounts/{code}", status="200") >= 1
    assert _value(samples, histogram, route="unmatched", status="404") >= 1
    assert not [s for s in samples[histogram] if "42" in s.labels["route"]]

    assert _value(samples, "fundledger_bank_instructions", status="QUEUED") == 2
    assert _value(samples, "fundledger_bank_instructions", status="UNKNOWN") == 1
    assert _value(samples, "fundledger_bank_instructions", status="RETURNED") == 0
    assert _value(samples, "fundledger_bank_oldest_unsent_instruction_age_seconds") == 90 * 60
    assert _value(samples, "fundledger_bank_oldest_unresolved_instruction_age_seconds") == 7200
    assert _value(samples, "fundledger_job_runs", job="daily_batch", status="FAILED") == 1
    assert _value(samples, "fundledger_job_run_duration_seconds_count", job="daily_batch") == 2
    assert _value(
        samples, "fundledger_job_run_duration_seconds_sum", job="daily_batch"
    ) == pytest.approx(14, abs=0.01)
    assert _value(samples, "fundledger_job_last_run_failed", job="daily_batch") == 1
    assert (
        _value(samples, "fundledger_job_last_success_timestamp_seconds", job="daily_batch")
        == (now - timedelta(seconds=20)).timestamp()
    )
    assert _value(samples, "fundledger_alerts_open", kind="bank_unknown", acknowledged="false") == 1
    assert _value(samples, "fundledger_ledger_entries", fund="640100:310") == 3
    assert _value(samples, "fundledger_ledger_entries_since_snapshot", fund="640100:310") == 3
    assert _value(samples, "fundledger_database_up") == 1


def test_metrics_are_for_staff_only(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001")
    hospital = bearer(builders.user_token(session, "h", "hospital", "H001"))
    session.commit()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=hospital).status_code == 403
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a.1"})
    assert given.headers["X-Request-ID"] == "edge-7f3a.1"
    made = client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    assert made.headers["X-Request-ID"] != client.get("/healthz").headers["X-Request-ID"]
    # not a token: a new one (a header value never reaches the logs unchecked)
    odd = client.get("/healthz", headers={"X-Request-ID": 'a b"{}'})
    assert odd.headers["X-Request-ID"] != 'a b"{}' and len(odd.headers["X-Request-ID"]) == 32
    problem = client.get("/api/v1/me", headers={"X-Request-ID": "r-401"})
    assert problem.status_code == 401 and problem.headers["X-Request-ID"] == "r-401"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_logs_carry_the_request_id_into_the_job_it_runs(
    client: TestClient,
    session: Session,
    json_lines: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def job(ctx: JobContext, day: date) -> dict[str, Any]:
        logging.getLogger("fundledger.jobs.alerts").info("checked %s", day, extra={"found": 0})
        return {"found": 0}

    monkeypatch.setitem(JOBS, "alerts", replace(JOBS["alerts"], run=job))
    operator = bearer(builders.user_token(session, "op", "operator"))
    session.commit()
    response = client.post(
        "/api/v1/jobs/alerts/run",
        json={"business_date": "2026-03-06"},
        headers={**operator, "X-Request-ID": "run-alerts-1"},
    )
    assert response.status_code == 200, response.text
    lines = _lines(json_lines)
    ran = [line for line in lines if line["logger"] == "fundledger.jobs.alerts"]
    assert ran == [
        {
            "ts": ran[0]["ts"],
            "level": "INFO",
            "logger": "fundledger.jobs.alerts",
            "message": "checked 2026-03-06",
            "request_id": "run-alerts-1",
            "found": 0,
        }
    ]
    (access,) = [line for line in lines if line["logger"] == "fundledger.access"]
    assert access["request_id"] == "run-alerts-1"
    assert access["route"] == "/api/v1/jobs/{name}/run" and access["status"] == 200
    assert access["method"] == "POST" and access["duration_ms"] >= 0


def test_unknown_methods_share_one_series_and_paths_are_logged_as_sent(
    client: TestClient, session: Session, json_lines: io.StringIO
) -> None:
    """Any method the service does not know is OTHER (a label's values stay few, whoever
    sends what); the access line carries the path as sent, so a decoded newline cannot
    forge a line in a text log."""
    staff = bearer(builders.user_token(session, "aud", "auditor"))
    session.commit()
    for number in range(3):
        client.request(f"EVIL{number}", "/nope")
    client.get("/x%0aforged", headers=staff)
    samples = _scrape(client, staff)
    methods = {
        s.labels["method"] for s in samples["fundledger_http_request_duration_seconds_count"]
    }
    assert "OTHER" in methods and not [m for m in methods if m.startswith("EVIL")]
    paths = [line.get("path") for line in _lines(json_lines) if line.get("route") == "unmatched"]
    assert "/x%0aforged" in paths and not [p for p in paths if "\n" in p]
