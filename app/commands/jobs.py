"""`fundledger jobs ...`: scheduled jobs (moved out of app/cli.py as it was)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.clock import SystemClock
from app.commands.common import _factory, _job_context, _parse_date
from app.config import get_settings
from app.db import transaction

jobs_cli = typer.Typer(no_args_is_help=True, help="scheduled jobs")


@jobs_cli.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="job name (fundledger jobs list)")],
    day: Annotated[str, typer.Option("--date", help="business date YYYY-MM-DD")],
) -> None:
    """Run one job for one business date now (recorded in job_run; a done date is skipped)."""
    from jobs.registry import JOBS
    from jobs.runner import run_job

    if name not in JOBS:
        raise typer.BadParameter(f"no job {name!r}; jobs: {', '.join(sorted(JOBS))}")
    business_day = _parse_date(day)
    outcome = run_job(_job_context(), name, business_day)
    typer.echo(f"{outcome.job} {outcome.business_date}: {outcome.status} {outcome.detail}")
    if outcome.status == "FAILED":
        raise typer.Exit(1)


@jobs_cli.command("list")
def jobs_list() -> None:
    """Every scheduled job with its time, last run and description."""
    from app.scheduling import service as scheduling
    from jobs.listing import listed_jobs

    with transaction(_factory()) as session:
        for job in listed_jobs(session, SystemClock().now(), get_settings()):
            last = scheduling.last_run(session, job.name)
            when = "working days" if job.working_days_only else "every day"
            last_text = "never"
            if last is not None:
                last_text = f"{last.business_date or last.started_at:%Y-%m-%d} {last.status}"
            typer.echo(
                f"{job.name:20} {job.at:12} {when:13} last: {last_text:22} {job.description}"
            )
