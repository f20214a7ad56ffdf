"""The scenario runner's state and its actors' HTTP calls, shared by the runner, the events and
the automatic actions (moved out of app/scenarios/runner.py as they were)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.bank.simdata import SimFaults, SimOptions
from app.bank.simulator import BankSimulator
from app.clock import SimulatedClock, at_shanghai
from app.config import DEV_BANK_SECRET, Settings
from app.db import make_sessionmaker
from app.jobcontext import JobContext
from app.scenarios.model import Scenario
from app.workdays.rules import WorkCalendar

CALLBACK_URL = "http://testserver/api/v1/bank/receipts"


RECONCILE_AT = time(23, 0)


APPROVE_AT = time(9, 0)


DECLARE_AT = time(9, 0)


CONFIRM_AT = time(10, 0)


DECLARE_FROM_DAY = 10


DECLARE_DEADLINE_DAY = 15  # the default declaration day of the policy


LIST_LIMIT = 500


REQUERY_INTERVAL = timedelta(minutes=10)


class ScenarioError(ValueError):
    pass


def _expenditure_account(region: str, insutype: str) -> str:
    return f"95588{region}{insutype}"


class RunnerBase:
    """What every part of the runner shares: the scenario, the clock, the bank, the actors'
    credentials and the bookkeeping."""

    client: TestClient  # set by Runner.play
    ctx: JobContext  # set by Runner.play

    def __init__(
        self, scenario: Scenario, engine: Any, *, bank_faults: SimFaults | None = None
    ) -> None:
        self.scenario = scenario
        self.engine = engine
        self.factory = make_sessionmaker(engine)
        self.clock = SimulatedClock(at_shanghai(scenario.start, time(0, 0)))
        overrides = {entry.date: entry.working for entry in scenario.calendar}
        self.calendar = WorkCalendar(overrides)
        self.settings = Settings(
            environment="test",
            database_url=str(engine.url),
            callback_url=CALLBACK_URL,
        )
        self.bank = BankSimulator(
            secret=DEV_BANK_SECRET,
            clock=self.clock,
            calendar=self.calendar,
            options=SimOptions(rules=scenario.bank, faults=bank_faults or SimFaults()),
        )
        # A bank that stalls answers after faults.timeout_s: the gateway gives up before.
        self.read_timeout_s = bank_faults.timeout_s / 2 if bank_faults else 10.0
        self.rejected: list[dict[str, Any]] = []
        self.headers: dict[str, dict[str, str]] = {}
        # hospital-side bookkeeping for the auto reconciliation: (code, insutype, date) -> totals
        self.own_totals: dict[tuple[str, str, date], list[int]] = defaultdict(lambda: [0, 0])
        self.dirty_days: set[tuple[str, str, date]] = set()
        self.uploads: dict[
            tuple[str, str], tuple[str, int]
        ] = {}  # (code, setl_id) -> (insutype, fund)
        self.institutions = {i.code: i for i in scenario.institutions}
        self.current_index = -1
        # What the actors know without asking: which lists may hold work (the auto actions
        # only read a list when something may be waiting in it), what each hospital declared.
        self.waiting = {"batches": False, "computed": False, "confirmed": False, "failed": False}
        self.declared: dict[tuple[str, str], str] = {}
        self.requery_at: datetime | None = None
        self.prepayment_approved: set[tuple[str, str]] = set()  # (region, year) approved once

    def _call(self, actor: str, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body, headers=self.headers[actor])
        return response

    def _must(self, actor: str, method: str, path: str, body: Any = None) -> Any:
        response = self._call(actor, method, path, body)
        if response.status_code >= 400:
            raise ScenarioError(
                f"set-up {method} {path} refused: {response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else None
