"""Pure rules of the scheduler: a job run's status and its moves."""

from __future__ import annotations

from enum import StrEnum

from app.states import Machine


class RunStatus(StrEnum):
    """A job run (stored in job_run.status)."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


RUN: Machine[RunStatus] = Machine(
    "a job run",
    {
        # RUNNING again: a run left by a stopped process is taken over (jobs are idempotent)
        RunStatus.RUNNING: {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.RUNNING},
        RunStatus.FAILED: {RunStatus.RUNNING},  # retried
        RunStatus.SUCCEEDED: {RunStatus.RUNNING},  # run again when an operator asks
    },
)
RUN_START = RunStatus.RUNNING


class Outcome(StrEnum):
    """What running a job for a date did (the runner's answer; not stored)."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # already done, or another process runs it


def finished(ok: bool) -> RunStatus:
    return RunStatus.SUCCEEDED if ok else RunStatus.FAILED
