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
from app.bank.simdata import SimFaults, SimOptions
from app.bank.simserver import serve_in_thread
from app.bank.simulator import BankSimulator
from app.clock import SHANGHAI, SimulatedClock, at_shanghai, period_add
from app.clock import business_date as date_of
from app.config import DEV_BANK_SECRET, Settings
from app.db import make_engine, make_sessionmaker, transaction
from app.institutions.models import Institution
from app.jobcontext import JobContext
from app.main import create_app
from app.money import to_fen, yuan
from app.scenarios import result as results
from app.scenarios.model import Scenario
from app.workdays.rules import WorkCalendar
from jobs.registry import JOBS
from jobs.runner import run_job

log = logging.getLogger("fundledger.scenario")
logging.getLogger("httpx").setLevel(logging.WARNING)  # thousands of in-process API calls

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


class Runner:
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
        if event.get("status") == "FAILED" and event.get("instruction_id", "")[:1] in ("M", "A"):
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

    def _hospital(self, data: dict[str, Any]) -> str:
        code = data.get("fixmedins_code", "")
        return code if code in self.headers else "admin"

    def _event_settlement(self, data: dict[str, Any]) -> Any:
        response = self._call(self._hospital(data), "POST", "/api/v1/settlements", data)
        if response.status_code == 201:
            body = response.json()
            fund = to_fen(body["fund_amount"])
            key = (body["fixmedins_code"], body["insutype"], date.fromisoformat(body["setl_date"]))
            self.uploads[(body["fixmedins_code"], body["setl_id"])] = (body["insutype"], fund)
            self.own_totals[key][0] += 1
            self.own_totals[key][1] += fund
            self.dirty_days.add(key)
        return response

    def _event_revoke(self, data: dict[str, Any]) -> Any:
        code, setl_id = data["fixmedins_code"], data["setl_id"]
        response = self._call(
            self._hospital(data),
            "POST",
            f"/api/v1/settlements/{code}/{setl_id}/revoke",
            {"reason": data.get("reason", "")},
        )
        if response.status_code == 201 and (code, setl_id) in self.uploads:
            insutype, fund = self.uploads[(code, setl_id)]
            key = (code, insutype, date_of(self.clock.now()))
            self.own_totals[key][0] -= 1
            self.own_totals[key][1] -= fund
            self.dirty_days.add(key)
        return response

    def _event_reconcile(self, data: dict[str, Any]) -> Any:
        return self._call(self._hospital(data), "POST", "/api/v1/reconciliations", data)

    def _event_declare(self, data: dict[str, Any]) -> Any:
        response = self._call(self._hospital(data), "POST", "/api/v1/declarations", data)
        if response.status_code in (200, 201):
            key = (data["fixmedins_code"], data["insutype"])
            self.declared[key] = max(self.declared.get(key, ""), data["period"])
        return response

    def _audit_path(self, data: dict[str, Any], action: str) -> str:
        code, setl_id, rule = data["fixmedins_code"], data["setl_id"], data["rule_code"]
        return f"/api/v1/audits/{code}/{setl_id}/{rule}/{action}"

    def _event_audit(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", "/api/v1/audits", data)

    def _event_appeal(self, data: dict[str, Any]) -> Any:
        return self._call(
            self._hospital(data),
            "POST",
            self._audit_path(data, "appeal"),
            {"reason": data.get("reason", "")},
        )

    def _event_review(self, data: dict[str, Any]) -> Any:
        return self._call(
            "operator",
            "POST",
            self._audit_path(data, "review"),
            {"amount": data["amount"], "final": data.get("final", True)},
        )

    def _event_consultation(self, data: dict[str, Any]) -> Any:
        return self._call(
            "operator", "POST", self._audit_path(data, "consultation"), {"amount": data["amount"]}
        )

    def _event_procurement_advance(self, data: dict[str, Any]) -> Any:
        response = self._call("operator", "POST", "/api/v1/procurement-advances", data)
        if response.status_code == 201:
            # paid to the suppliers from the expenditure account, at the bank's counter
            code = data["fixmedins_code"]
            self._bank_moves(
                self.institutions[code].region,
                data["insutype"],
                "DEBIT",
                data["amount"],
                data["reference"],
                "药耗招采垫付",
            )
        return response

    def _event_assessment(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", "/api/v1/annual/assessments", data)

    def _event_repayment(self, data: dict[str, Any]) -> Any:
        code = data["fixmedins_code"]
        region = self.institutions[code].region if code in self.institutions else "000000"
        response = self._call(
            "accountant",
            "POST",
            f"/api/v1/receivables/{region}/{data['insutype']}/{code}/repayments",
            {"amount": data["amount"], "receipt_no": data["receipt_no"]},
        )
        if response.status_code == 201:
            institution = self.institutions[code]
            self._bank_moves(
                region,
                data["insutype"],
                "CREDIT",
                data["amount"],
                data["receipt_no"],
                "医疗机构退回款",
                (institution.bank_account, institution.bank_account_name),
            )
        return response

    def _event_appropriation(self, data: dict[str, Any]) -> Any:
        reference = data.get("reference") or f"SCENARIO-EVENT-{self.current_index}"
        response = self._call(
            "accountant",
            "POST",
            f"/api/v1/fund-ledgers/{data['region']}/{data['insutype']}/appropriations",
            {"amount": data["amount"], "reference": reference},
        )
        if response.status_code == 201:
            self._bank_moves(
                data["region"], data["insutype"], "CREDIT", data["amount"], reference, "基金划入"
            )
        return response

    def _bank_moves(
        self,
        region: str,
        insutype: str,
        direction: str,
        amount: str,
        reference: str,
        summary: str,
        counterparty: tuple[str, str] = ("", ""),
    ) -> None:
        """Money the service recorded that moves on the expenditure account without an
        instruction: the bank books it too (the outside world's side of the event)."""
        self.bank.transfer(
            account=_expenditure_account(region, insutype),
            direction=direction,
            amount=amount,
            business_ref=reference,
            counterparty_account=counterparty[0],
            counterparty_name=counterparty[1],
            summary=summary,
        )

    # -- auto actions ------------------------------------------------------------------------------

    def _auto(self, local: time, today: date) -> None:
        auto = self.scenario.auto
        working = self.calendar.is_working(today)
        if working and local == APPROVE_AT and auto.approve:
            self._auto_approve(today)
        if working and local == DECLARE_AT and auto.declare:
            self._auto_declare(today)
        if working and local == CONFIRM_AT and auto.confirm:
            self._auto_confirm(today)
        if local == RECONCILE_AT and auto.reconcile:
            self._auto_reconcile()

    def _pages(self, actor: str, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            query = {**params, "limit": LIST_LIMIT, **({"cursor": cursor} if cursor else {})}
            response = self.client.get(path, params=query, headers=self.headers[actor])
            if response.status_code != 200:
                return
            page = response.json()
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _auto_approve(self, today: date) -> None:
        if self.waiting["batches"]:
            left = 0
            for batch in list(
                self._pages("accountant", "/api/v1/daily-batches", {"status": "PUSHED"})
            ):
                if date_of(datetime.fromisoformat(batch["pushed_at"])) > today:
                    left += 1
                    continue
                path = f"/api/v1/daily-batches/{batch['id']}/approve"
                if self._call("accountant", "POST", path).json().get("status") == "PUSHED":
                    self._call("accountant2", "POST", path)
            self.waiting["batches"] = left > 0
        for flag, status, stamp in (
            ("confirmed", "CONFIRMED", "confirmed_at"),
            ("failed", "FAILED", "payment_result_at"),
        ):
            if not self.waiting[flag]:
                continue
            left = 0
            for path in ("/api/v1/statements", "/api/v1/annual/clearings"):
                for document in list(self._pages("accountant", path, {"status": status})):
                    if date_of(datetime.fromisoformat(document[stamp])) < today:
                        self._call("accountant", "POST", f"{path}/{document['id']}/approve")
                    else:
                        left += 1
            self.waiting[flag] = left > 0

    def _auto_confirm(self, today: date) -> None:
        if not self.waiting["computed"]:
            return
        left = 0
        for path in ("/api/v1/statements", "/api/v1/annual/clearings"):
            for document in list(self._pages("accountant", path, {"status": "COMPUTED"})):
                if date_of(datetime.fromisoformat(document["computed_at"])) < today:
                    response = self._call(
                        document["fixmedins_code"], "POST", f"{path}/{document['id']}/confirm", {}
                    )
                    if response.status_code == 200:
                        self.waiting["confirmed"] = True
                else:
                    left += 1
        self.waiting["computed"] = left > 0

    def _auto_declare(self, today: date) -> None:
        """09:00 on working days from the 10th of M+1 (on or after) until the deadline: each
        institution declares its next period, activity or not, until it is accepted."""
        first = self.scenario.first_period()
        for institution in self.scenario.institutions:
            for insutype in institution.insutypes:
                key = (institution.code, insutype)
                period = period_add(self.declared[key], 1) if key in self.declared else first
                following = date.fromisoformat(f"{period_add(period, 1)}-01")
                opens = self.calendar.on_or_after(following.replace(day=DECLARE_FROM_DAY))
                deadline = self.calendar.on_or_after(following.replace(day=DECLARE_DEADLINE_DAY))
                if not opens <= today <= deadline:
                    continue
                response = self._call(
                    institution.code,
                    "POST",
                    "/api/v1/declarations",
                    {"fixmedins_code": institution.code, "insutype": insutype, "period": period},
                )
                if response.status_code in (200, 201):
                    self.declared[key] = period

    def _auto_reconcile(self) -> None:
        for key in sorted(self.dirty_days):
            code, insutype, day = key
            count, fund = self.own_totals[key]
            self._call(
                code,
                "POST",
                "/api/v1/reconciliations",
                {
                    "fixmedins_code": code,
                    "insutype": insutype,
                    "setl_date": day.isoformat(),
                    "count": count,
                    "fund_amount": yuan(fund),
                },
            )
        self.dirty_days.clear()
