"""Play a scenario (SCENARIOS.md): a simulated clock, the real jobs on their schedule, every
actor action through the HTTP API with that actor's credentials, the bundled bank simulator
over HTTP with its signed callbacks through the real callback endpoint."""

from __future__ import annotations

import heapq
import json
import logging
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app import migrate
from app.auth import service as auth
from app.auth.principal import Principal
from app.bank import sending
from app.bank.gateway import HttpBankGateway
from app.bank.simdata import SimFaults
from app.bank.simserver import serve_in_thread
from app.clock import SHANGHAI, at_shanghai
from app.config import DEV_BANK_SECRET
from app.db import make_engine, make_sessionmaker, transaction
from app.institutions.models import Institution
from app.jobcontext import JobContext
from app.main import create_app
from app.scenarios import result as results
from app.scenarios.assistance import AssistanceEvents
from app.scenarios.auto import AutoActions
from app.scenarios.base import (
    APPROVE_AT,
    CONFIRM_AT,
    RECONCILE_AT,
    REQUERY_INTERVAL,
    ScenarioError,
    _expenditure_account,
)
from app.scenarios.model import Scenario
from jobs.registry import JOBS
from jobs.runner import run_job

log = logging.getLogger("fundledger.scenario")
logging.getLogger("httpx").setLevel(logging.WARNING)  # thousands of in-process API calls


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="fundledger-scenario-") as folder:
        yield f"sqlite:///{Path(folder) / 'scenario.db'}"


def run_file(path: str | Path, db_url: str | None = None) -> dict[str, Any]:
    scenario = Scenario.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    return run(scenario, db_url)


def run(
    scenario: Scenario, db_url: str | None = None, *, bank_faults: SimFaults | None = None
) -> dict[str, Any]:
    """The scenario's result; `bank_faults` plays it against a bank on a bad day (the soak
    test: the result must be the same as without)."""
    scenario.check()
    with _database(db_url) as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            with transaction(make_sessionmaker(engine)) as session:
                if session.scalar(select(Institution.code).limit(1)) is not None:
                    raise ScenarioError("the database is not empty; scenarios play on a fresh one")
            return Runner(scenario, engine, bank_faults=bank_faults).play()
        finally:
            engine.dispose()


class Runner(AssistanceEvents, AutoActions):
    """Plays a scenario: the set-up, the clock's loop and the events' dispatch here; the state
    in base.py, the events in events.py, the automatic actions in auto.py."""

    # -- set-up ---------------------------------------------------------------------------------

    def play(self) -> dict[str, Any]:
        bank_url, stop_bank = serve_in_thread(self.bank.app)
        gateway = HttpBankGateway(
            bank_url,
            secret=DEV_BANK_SECRET,
            bank_id="FUNDBANK",
            clock=self.clock,
            read_timeout_s=self.read_timeout_s,
        )
        app = create_app(self.settings, session_factory=self.factory, clock=self.clock)
        self.ctx = JobContext(
            session_factory=self.factory,
            engine=self.engine,
            clock=self.clock,
            settings=self.settings,
            gateway=gateway,
            runner="scenario",
        )
        try:
            with TestClient(app, raise_server_exceptions=True) as client:
                self.client = client
                self._set_up()
                self._loop()
        finally:
            gateway.close()
            stop_bank()
        with transaction(self.factory) as session:
            return results.build(session, self.scenario, self.rejected)

    def _set_up(self) -> None:
        now = self.clock.now()
        with transaction(self.factory) as session:
            admin = Principal(None, "scenario-setup", "admin")
            auth.create_user(
                session,
                name="scenario-admin",
                role="admin",
                fixmedins_code=None,
                actor=admin,
                now=now,
            )
            _, token = auth.issue_token(session, name="scenario-admin", actor=admin, now=now)
        self.headers["admin"] = {"Authorization": f"Bearer {token}"}
        for name, role in (
            ("operator", "operator"),
            ("accountant", "accountant"),
            ("accountant2", "accountant"),
            ("auditor", "auditor"),
        ):
            self._user(f"scenario-{name}", role, None, name)
        for region in self.scenario.regions:
            body: dict[str, Any] = {"code": region.code, "name": region.name}
            if region.division_prefixes:
                body["division_prefixes"] = region.division_prefixes
            self._must("operator", "POST", "/api/v1/regions", body)
        funds_done: set[tuple[str, str]] = set()
        for fund in sorted(self.scenario.funds, key=lambda f: f.effective_from):
            key = (fund.region, fund.insutype)
            if key not in funds_done:
                self._must(
                    "operator",
                    "POST",
                    "/api/v1/fund-ledgers",
                    {
                        "region_code": fund.region,
                        "insutype": fund.insutype,
                        "name": f"{fund.region} {fund.insutype}",
                        "expenditure_account": _expenditure_account(fund.region, fund.insutype),
                        "expenditure_account_name": f"医保基金支出户 {fund.region} {fund.insutype}",
                        "requires_settlement_list": fund.requires_settlement_list,
                    },
                )
                funds_done.add(key)
            policy = {
                "effective_from": fund.effective_from.isoformat(),
                "daily_ratio": fund.daily_ratio,
                "deposit_rate": fund.deposit_rate,
            }
            if fund.approval_threshold:
                policy["approval_threshold"] = fund.approval_threshold
            for field in ("submission_time", "cutoff_time"):
                if getattr(fund, field):
                    policy[field] = getattr(fund, field)
            self._must(
                "operator",
                "POST",
                f"/api/v1/fund-ledgers/{fund.region}/{fund.insutype}/policies",
                policy,
            )
        for institution in self.scenario.institutions:
            self._must(
                "operator",
                "POST",
                "/api/v1/institutions",
                {
                    "code": institution.code,
                    "name": institution.name,
                    "level": institution.level,
                    "region_code": institution.region,
                    "bank_account": institution.bank_account,
                    "bank_account_name": institution.bank_account_name,
                    "bank_code": institution.bank_code,
                    "enrollments": [
                        {"insutype": t, "start_date": self.scenario.start.isoformat()}
                        for t in institution.insutypes
                    ],
                },
            )
            self._user(
                f"scenario-{institution.code}", "hospital", institution.code, institution.code
            )
        for entry in self.scenario.calendar:
            self._must(
                "operator",
                "PUT",
                f"/api/v1/calendar/overrides/{entry.date}",
                {"working": entry.working},
            )
        for rules in self.scenario.annual_rules:
            self._must("operator", "POST", "/api/v1/annual/rules", rules)
        self._set_up_assistance()

    def _user(self, name: str, role: str, code: str | None, key: str) -> None:
        self._must(
            "admin", "POST", "/api/v1/users", {"name": name, "role": role, "fixmedins_code": code}
        )
        token = self._must("admin", "POST", f"/api/v1/users/{name}/tokens")["token"]
        self.headers[key] = {"Authorization": f"Bearer {token}"}

    # -- the clock ----------------------------------------------------------------------------

    def _fixed_times(self, day: date) -> list[tuple[datetime, str]]:
        working = self.calendar.is_working(day)
        moments = []
        for spec in JOBS.values():
            if spec.runs_on(day, self.calendar):
                moments.append((at_shanghai(day, spec.at), "job"))
        if self.scenario.auto.reconcile:
            moments.append((at_shanghai(day, RECONCILE_AT), "auto"))
        if working and (self.scenario.auto.approve or self.scenario.auto.declare):
            moments.append((at_shanghai(day, APPROVE_AT), "auto"))
        if working and self.scenario.auto.confirm:
            moments.append((at_shanghai(day, CONFIRM_AT), "auto"))
        return moments

    def _loop(self) -> None:
        events = self.scenario.event_moments()
        by_moment: dict[datetime, list[int]] = defaultdict(list)
        for at, index in events:
            by_moment[max(at, self.clock.now())].append(index)
        cursor = 0
        day = self.scenario.start
        end = at_shanghai(self.scenario.end, time(0, 0))
        while day < self.scenario.end:
            heap: list[datetime] = [moment for moment, _ in self._fixed_times(day)]
            day_end = at_shanghai(day + timedelta(days=1), time(0, 0))
            while cursor < len(events) and events[cursor][0] < day_end:
                heap.append(max(events[cursor][0], self.clock.now()))
                cursor += 1
            self._add_bank_moments(heap, day_end)
            heapq.heapify(heap)
            done: set[datetime] = set()
            while heap:
                moment = heapq.heappop(heap)
                if moment in done or moment >= end or moment < self.clock.now():
                    continue
                done.add(moment)
                self._minute(moment, by_moment)
                self._add_bank_moments(heap, day_end)
            day += timedelta(days=1)

    def _add_bank_moments(self, heap: list[datetime], day_end: datetime) -> None:
        due = self.bank.next_delivery()
        if due is not None and due < day_end:
            heapq.heappush(heap, max(due, self.clock.now()))
        if self.requery_at is not None and self.requery_at < day_end:
            heapq.heappush(heap, max(self.requery_at, self.clock.now()))

    def _minute(self, moment: datetime, events: dict[datetime, list[int]]) -> None:
        self.clock.set(moment)
        for index in events.get(moment, ()):
            self._event(index)
        if self.bank.deliver_due(self._deliver):
            self._refresh_requery()
        local = moment.astimezone(SHANGHAI)
        today = local.date()
        self._auto(local.time(), today)
        for spec in sorted(JOBS.values(), key=lambda s: s.at):
            if spec.at == local.time() and spec.runs_on(today, self.calendar):
                outcome = run_job(self.ctx, spec.name, spec.business_date(today))
                self._note(spec.name, outcome.detail)
        if self.requery_at is not None and self.requery_at <= moment:
            sending.requery_due(self.ctx)
            self._refresh_requery()
            if self.requery_at is not None and self.requery_at <= moment:
                # Work the bank refused and that waits in the outbox: the sweep's next round,
                # as the scheduler's interval.
                self.requery_at = moment + REQUERY_INTERVAL

    def _refresh_requery(self) -> None:
        with transaction(self.factory) as session:
            self.requery_at = sending.next_requery_due(session, self.settings, self.clock.now())

    def _note(self, job: str, detail: Any) -> None:
        """What a job's outcome tells the actors about their lists."""
        if not isinstance(detail, dict):
            return
        if job == "daily_batch" and any(b.get("lines") for b in detail.get("batches", {}).values()):
            self.waiting["batches"] = True
        if job in ("monthly_compute", "annual_clearing") and any(
            (detail.get("computed") or detail.get("cleared") or {}).values()
        ):
            self.waiting["computed"] = True
        if job == "submission":
            self._refresh_requery()

    def _deliver(self, url: str, headers: dict[str, str], body: bytes) -> int:
        path = url.replace("http://testserver", "")
        event = json.loads(body)
        if event.get("status") == "FAILED" and event.get("instruction_id", "")[:1] != "D":
            # a document's payment (not a daily line's): the accountant re-approves it
            self.waiting["failed"] = True
        return self.client.post(path, content=body, headers=headers).status_code

    # -- events --------------------------------------------------------------------------------

    def _event(self, index: int) -> None:
        event = self.scenario.events[index]
        data = dict(event.data)
        self.current_index = index
        handler = getattr(self, f"_event_{event.type}")
        response = handler(data)
        if response.status_code >= 300:
            log.info(
                "event %d (%s) refused: %s %s",
                index,
                event.type,
                response.status_code,
                response.text[:200],
            )
            self.rejected.append(
                {"index": index, "type": event.type, "status": response.status_code}
            )
