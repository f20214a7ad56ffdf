"""Operators list jobs (last and next run) and run one for a business date; the month-start
summary of daily payments."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.bank.models import PaymentInstruction
from app.daily import service as daily
from app.institutions import maintenance
from app.institutions import service as institutions
from app.institutions.schemas import PolicyIn
from app.scheduling.models import JobRun
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import at, generate, settle


def test_list_and_run_jobs(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 10_000, date(2026, 3, 5))
    op = bearer(builders.user_token(session, "op", "operator"))
    h1 = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    jobs = {job["name"]: job for job in client.get("/api/v1/jobs", headers=op).json()}
    assert {
        "daily_batch",
        "monthly_compute",
        "submission",
        "annual_clearing",
        "audit_finalize",
        "alerts",
        "month_start_summary",
    } <= set(jobs)
    # the test clock: Friday 2026-03-06 10:00 Shanghai
    assert jobs["daily_batch"]["next_run"] == "2026-03-07T00:30:00+08:00"
    assert jobs["submission"]["next_run"] == "2026-03-06T14:30:00+08:00"
    assert jobs["monthly_compute"]["next_run"] == "2026-03-09T01:00:00+08:00"  # a working day
    assert jobs["daily_batch"]["last_run"] is None
    assert (
        client.post(
            "/api/v1/jobs/daily_batch/run", json={"business_date": "2026-03-05"}, headers=h1
        ).status_code
        == 403
    )
    # a run left RUNNING by a process that stopped is taken over, not skipped forever
    session.add(
        JobRun(
            job_name="daily_batch",
            business_date=date(2026, 3, 5),
            status="RUNNING",
            attempts=1,
            started_at=at(date(2026, 3, 6), 0, 30),
            runner="stopped-host:1",
        )
    )
    session.commit()
    first = client.post(
        "/api/v1/jobs/daily_batch/run", json={"business_date": "2026-03-05"}, headers=op
    ).json()
    assert first["status"] == "SUCCEEDED"
    session.expire_all()
    row = session.scalar(select(JobRun).where(JobRun.job_name == "daily_batch"))
    assert row is not None and (row.status, row.attempts) == ("SUCCEEDED", 2)
    again = client.post(
        "/api/v1/jobs/daily_batch/run", json={"business_date": "2026-03-05"}, headers=op
    ).json()
    assert again["status"] == "SKIPPED"
    # today (Friday 03-06) the daily batch runs for Thursday at the latest
    future = client.post(
        "/api/v1/jobs/daily_batch/run", json={"business_date": "2026-03-06"}, headers=op
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "business_date"
    past = client.post(
        "/api/v1/jobs/submission/run", json={"business_date": "2026-03-05"}, headers=op
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["rule"] == "due_date_only"
    last = client.get("/api/v1/jobs", headers=op).json()
    assert next(j for j in last if j["name"] == "daily_batch")["last_run"]["status"] == "SUCCEEDED"
    assert (
        client.post(
            "/api/v1/jobs/nope/run", json={"business_date": "2026-03-05"}, headers=op
        ).status_code
        == 404
    )


def test_month_start_summary(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 10_000, date(2026, 3, 5))
    batch = generate(session, date(2026, 3, 5))
    daily.approve(
        session, batch.id, actor=Principal(None, "acc", "accountant"), now=at(date(2026, 3, 6), 9)
    )
    fund = institutions.get_fund_ledger(session, "640100", "310")
    [instruction_id] = daily.submit_due(
        session, fund, today=date(2026, 3, 6), now=at(date(2026, 3, 6), 14, 30)
    )
    session.get(PaymentInstruction, instruction_id).status = "SUCCESS"  # type: ignore[union-attr]
    assert daily.compile_month_summary(session, "2026-03", now=at(date(2026, 4, 7), 8)) == 1
    assert (
        daily.compile_month_summary(session, "2026-03", now=at(date(2026, 4, 7), 8)) == 1
    )  # replaces
    acc = bearer(builders.user_token(session, "acc", "accountant"))
    session.commit()
    rows = client.get("/api/v1/reports/daily-payments/2026-03", headers=acc).json()
    assert rows == [
        {
            "region_code": "640100",
            "insutype": "310",
            "fixmedins_code": "H001",
            "pay_date": "2026-03-06",
            "payments": 1,
            "amount": "60.00",
        }
    ]
    export = client.get("/api/v1/reports/daily-payments/2026-03/export.xlsx", headers=acc)
    assert export.status_code == 200 and export.content[:2] == b"PK"


def test_the_list_shows_every_scheduled_job_and_reads_the_policy(
    client: TestClient, session: Session
) -> None:
    builders.fund(session)
    builders.fund(session, "640200")
    maintenance.add_policy_version(  # 640200 submits earlier from March on
        session,
        institutions.get_fund_ledger(session, "640200", "310"),
        PolicyIn.model_validate(
            {
                "effective_from": "2026-03-01",
                "daily_ratio": "0.60",
                "deposit_rate": "0.05",
                "submission_time": "10:00",
                "cutoff_time": "11:30",
            }
        ),
        actor=Principal(None, "admin", "admin"),
        now=at(date(2026, 2, 1)),
    )
    op = bearer(builders.user_token(session, "op", "operator"))
    session.commit()
    jobs = {job["name"]: job for job in client.get("/api/v1/jobs", headers=op).json()}
    assert jobs["submission"]["description"].endswith(
        "(policy submission–cut-off: 10:00–11:30, 14:30–15:00)"
    )
    sweep = jobs["bank_requery"]
    assert sweep["at"] == "every 10 min" and sweep["next_run"] is None
    assert "30 minutes after sending" in sweep["description"]  # FUNDLEDGER_BANK_REQUERY_AFTER_S
