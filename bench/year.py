"""A Ningxia-scale year end to end (issue 20.5), PostgreSQL.

The scenario runner (app/scenarios/runner.py) plays a generated year: its simulated clock
runs every scheduled job at its time (jobs/registry.py, through jobs.runner.run_job: the
daily batch at 00:30, the monthly computation at 01:00, the annual clearing at 02:00, the bank
statement at 06:00, the 14:30 submission, ...), the bundled bank simulator is a real HTTP
server (app/bank/simserver.py) whose signed receipts come back through the real callback
endpoint, and the actors act through the HTTP API (`auto`: the hospitals declare from the 10th
and confirm their statements, the two accountants approve the daily batches, the accountant
approves the confirmed statements and clearings). The set-up is the runner's own (regions,
fund ledgers, policies, institutions with both enrolments, users, annual rules, all over the
API); an appropriation per fund ledger funds the expenditure accounts; the assessments of
the year come on 12 January of the next year as operator events.

Settlements (the only addition to the runner): each day at 23:30 Shanghai the day's
settlements go through the intake service's bulk path (`app.settlements.service.upload_bulk`,
what POST /api/v1/settlements/bulk calls), 5,000 per call, one transaction each. Settlement i
belongs to institution i mod H, insurance type 310/390 alternating above it, day i·D/N.

The year runs from 1 January to 1 March of the next year (December's statements are computed
in mid-January, paid, then the clearings computed, confirmed, approved and paid). Then
`app.ledger.service.verify` (what `fundledger ledger verify` runs) and the trial balance,
both asserted OK and balanced. Time per stage (each stage is the sum of its parts, wall
time), total, peak RSS, load average: a Markdown table.

Run: .venv/bin/python -m bench.year [--settlements 1300000] [--hospitals 200] [--regions 5]
     [--year 2026] [--until YYYY-MM-DD] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import secrets
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import migrate
from app.auth.principal import Principal
from app.bank import sending
from app.bank.gateway import HttpBankGateway
from app.bank.simserver import serve_in_thread
from app.clock import SHANGHAI, at_shanghai
from app.config import DEV_BANK_SECRET
from app.db import make_engine, transaction
from app.jobcontext import JobContext
from app.ledger import service as ledger
from app.main import create_app
from app.scenarios import runner as scenario_runner
from app.scenarios.model import Scenario
from app.settlements import service as settlements
from app.settlements.rules import UploadOutcome
from app.settlements.uploads import BULK_ITEMS_MAX
from bench.common import ADMIN_URL, Timer, peak_rss_mb

REGIONS = (
    ("640100", "银川市"),
    ("640200", "石嘴山市"),
    ("640300", "吴忠市"),
    ("640400", "固原市"),
    ("640500", "中卫市"),
    ("640600", "宁东"),
    ("640700", "区本级"),
)
INSUTYPES = ("310", "390")
INTAKE_AT = clock_time(23, 30)
INTAKE_ACTOR = Principal(None, "bench-intake", "admin")
STAGES = (
    "seeding",
    "intake",
    "reconciliation",
    "daily batches",
    "bank",
    "statements",
    "clearing",
    "other jobs",
    "verify",
    "trial balance",
)
JOB_STAGE = {
    "daily_batch": "daily batches",
    "submission": "bank",
    "bank_statement": "bank",
    "monthly_compute": "statements",
    "annual_clearing": "clearing",
}


@contextmanager
def fresh_database() -> Iterator[str]:
    """bench.common.fresh_postgres under this bench's own name prefix (fl_year_)."""
    name = f"fl_year_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    text_url = url.render_as_string(hide_password=False)
    try:
        migrate.upgrade(text_url)
        yield text_url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fund_fen(i: int) -> int:
    """An inpatient fund payment of 3,000–12,000 yuan (integer fen)."""
    return 300_000 + (i * 7919) % 900_000


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def build_scenario(
    settlements: int, hospitals: int, regions: int, year: int, until: date | None = None
) -> Scenario:
    region_codes = [code for code, _ in REGIONS[:regions]]
    start = date(year, 1, 1)
    per_fund: dict[tuple[str, str], int] = defaultdict(int)
    for i in range(settlements):
        code_index = i % hospitals
        insutype = INSUTYPES[(i // hospitals) % 2]
        per_fund[(region_codes[code_index % regions], insutype)] += _fund_fen(i)
    funds = [
        {"region": region, "insutype": insutype, "effective_from": start.isoformat()}
        for region in region_codes
        for insutype in INSUTYPES
    ]
    institutions = [
        {
            "code": f"H{n:04d}",
            "name": f"医院 {n:04d}",
            "level": 3 if n % 4 == 0 else 2,
            "region": region_codes[n % regions],
            "insutypes": list(INSUTYPES),
            "bank_account": f"6222{n:012d}",
            "bank_account_name": f"医院 {n:04d}",
            "bank_code": "102871000011",
        }
        for n in range(hospitals)
    ]
    events: list[dict[str, Any]] = []
    for region in region_codes:
        for insutype in INSUTYPES:
            # the year's payments and a margin (deposits come back with the clearing)
            amount = per_fund[(region, insutype)] * 12 // 10 + 100_000_00
            events.append(
                {
                    "at": f"{year}-01-01T09:00:00+08:00",
                    "type": "appropriation",
                    "data": {"region": region, "insutype": insutype, "amount": _yuan(amount)},
                }
            )
    for institution in institutions:
        for insutype in INSUTYPES:
            events.append(
                {
                    "at": f"{year + 1}-01-12T10:00:00+08:00",
                    "type": "assessment",
                    "data": {
                        "year": year,
                        "fixmedins_code": institution["code"],
                        "insutype": insutype,
                        "assessment_score": 95,
                        "credit_score": 90,
                    },
                }
            )
    return Scenario.model_validate(
        {
            "name": f"ningxia-year-{year}",
            "start": start.isoformat(),
            "end": (until or date(year + 1, 3, 1)).isoformat(),
            "auto": {"declare": True, "approve": True, "confirm": True, "reconcile": True},
            "regions": [{"code": code, "name": name} for code, name in REGIONS[:regions]],
            "funds": funds,
            "institutions": institutions,
            "annual_rules": [
                {
                    "year": year,
                    "assessment_bands": [
                        {"min_score": 90, "return_ratio": "1.00"},
                        {"min_score": 60, "return_ratio": "0.80"},
                        {"min_score": 0, "return_ratio": "0.00"},
                    ],
                    "credit_bands": [{"min_score": 0, "return_ratio": "1.00"}],
                }
            ],
            "events": events,
        }
    )


class YearRunner(scenario_runner.Runner):
    """The scenario runner with the day's settlements uploaded in bulk at 23:30, the time of
    every part recorded by stage, and no result document at the end (the year's would hold
    every daily line: the bench checks the ledger instead)."""

    def __init__(
        self, scenario: Scenario, engine: Any, settlements: int, hospitals: int, year: int
    ) -> None:
        super().__init__(scenario, engine)
        self.count = settlements
        self.hospitals = hospitals
        self.days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
        self.first_day = date(year, 1, 1)
        self.region_of = {i.code: i.region for i in scenario.institutions}
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.uploaded = 0
        self.stage = "other"
        self.started = time.perf_counter()
        self.progress_day: date | None = None

    # -- timing ------------------------------------------------------------------------------

    def _timed(self, stage: str, call: Callable[[], Any]) -> Any:
        outer, self.stage = self.stage, stage
        started = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[stage] += elapsed
            if outer != "other":  # nested: the outer stage keeps only its own time
                self.seconds[outer] -= elapsed
            self.stage = outer

    @staticmethod
    def _stage_of_path(path: str) -> str:
        if "/daily-batches" in path:
            return "daily batches"
        if "/annual/" in path:
            return "clearing"
        if "/statements" in path or "/declarations" in path:
            return "statements"
        if "/bank/" in path:
            return "bank"
        if "/reconciliations" in path:
            return "reconciliation"
        return "seeding"

    def _call(self, actor: str, method: str, path: str, body: Any = None) -> Any:
        self.counts[f"api {self._stage_of_path(path)}"] += 1
        return self._timed(
            self._stage_of_path(path),
            lambda: super(YearRunner, self)._call(actor, method, path, body),
        )

    def _pages(self, actor: str, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        stage = self._stage_of_path(path)
        pages = super()._pages(actor, path, params)
        while True:
            self.counts[f"api {stage}"] += 1
            item = self._timed(stage, lambda: next(pages, None))
            if item is None:
                return
            yield item

    def _deliver(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.counts["bank receipts"] += 1
        return int(
            self._timed("bank", lambda: super(YearRunner, self)._deliver(url, headers, body))
        )

    # -- the clock ---------------------------------------------------------------------------

    def _fixed_times(self, day: date) -> list[tuple[datetime, str]]:
        moments = super()._fixed_times(day)
        if self.first_day <= day < self.first_day + timedelta(days=self.days):
            moments.append((at_shanghai(day, INTAKE_AT), "intake"))
        return moments

    def _minute(self, moment: datetime, events: dict[datetime, list[int]]) -> None:
        local = moment.astimezone(SHANGHAI)
        if local.time() == INTAKE_AT and local.date() != self.progress_day:
            self.clock.set(moment)
            self._timed("intake", lambda: self._intake(local.date()))
            self._progress(local.date())
        super()._minute(moment, events)

    def _progress(self, day: date) -> None:
        self.progress_day = day
        if day.day == 1 or day == self.first_day + timedelta(days=self.days - 1):
            print(
                f"  {day} at {time.perf_counter() - self.started:.0f} s: uploaded {self.uploaded:,};"
                + ", ".join(f" {k} {v:.0f} s" for k, v in sorted(self.seconds.items())),
                file=sys.stderr,
                flush=True,
            )

    def _intake(self, day: date) -> None:
        index = (day - self.first_day).days
        first = -(-index * self.count // self.days)
        last = -(-(index + 1) * self.count // self.days)
        opening = datetime.combine(day, clock_time(8), tzinfo=SHANGHAI)
        for chunk_start in range(first, last, BULK_ITEMS_MAX):
            items = []
            for i in range(chunk_start, min(last, chunk_start + BULK_ITEMS_MAX)):
                code = f"H{i % self.hospitals:04d}"
                fund = _fund_fen(i)
                items.append(
                    {
                        "fixmedins_code": code,
                        "setl_id": f"S{i:010d}",
                        "psn_no": f"P{i:09d}",
                        "insutype": INSUTYPES[(i // self.hospitals) % 2],
                        "med_type": "21",
                        "insuplc_admdvs": self.region_of[code],
                        "setl_time": (opening + timedelta(seconds=i % 36_000)).isoformat(),
                        "medfee_sumamt": _yuan(fund + 150_000),
                        "hifp_pay": _yuan(fund),
                        "hifob_pay": "0.00",
                    }
                )
            with transaction(self.factory) as session:
                outcomes = settlements.upload_bulk(
                    session, items, actor=INTAKE_ACTOR, now=self.clock.now()
                )
            created = sum(1 for o in outcomes if o.outcome == UploadOutcome.CREATED)
            assert created == len(items), [o for o in outcomes if o.errors][:3]
            for item in items:  # the hospital's own books, for its reconciliation at 23:00
                key = (item["fixmedins_code"], item["insutype"], day)
                self.own_totals[key][0] += 1
                self.own_totals[key][1] += int(item["hifp_pay"].replace(".", ""))
                self.dirty_days.add(key)
            self.uploaded += created
            self.counts["intake calls"] += 1

    # -- the play, as Runner.play without the result document ---------------------------------

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
                self._timed("seeding", self._set_up)
                self._loop()
        finally:
            gateway.close()
            stop_bank()
        return {}

    def _event(self, index: int) -> None:
        kind = self.scenario.events[index].type
        stage = "clearing" if kind == "assessment" else "seeding"
        self._timed(stage, lambda: super(YearRunner, self)._event(index))


def _timed_jobs(bench: YearRunner) -> Callable[[], None]:
    """Time every job run by its stage (the runner calls run_job by its module global)."""
    original = scenario_runner.run_job
    original_requery = sending.requery_due

    def run_job(ctx: JobContext, name: str, business_date: date, **kwargs: Any) -> Any:
        bench.counts[f"job {name}"] += 1
        outcome = bench._timed(
            JOB_STAGE.get(name, "other jobs"),
            lambda: original(ctx, name, business_date, **kwargs),
        )
        assert outcome.status.name != "FAILED", (name, business_date, outcome.detail)
        return outcome

    def requery_due(ctx: JobContext) -> Any:
        return bench._timed("bank", lambda: original_requery(ctx))

    scenario_runner.run_job = run_job
    sending.requery_due = requery_due

    def restore() -> None:
        scenario_runner.run_job = original
        sending.requery_due = original_requery

    return restore


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def _counts(engine: Any) -> dict[str, Any]:
    with engine.connect() as connection:
        counts: dict[str, Any] = {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in (
                "settlement",
                "daily_batch",
                "daily_line",
                "payment_instruction",
                "monthly_statement",
                "annual_clearing",
                "journal_entry",
                "ledger_posting",
            )
        }
        counts["statements"] = dict(
            connection.execute(
                text("SELECT status, count(*) FROM monthly_statement GROUP BY status")
            ).all()
        )
        counts["clearings"] = dict(
            connection.execute(
                text("SELECT status, count(*) FROM annual_clearing GROUP BY status")
            ).all()
        )
        counts["instructions"] = dict(
            connection.execute(
                text("SELECT status, count(*) FROM payment_instruction GROUP BY status")
            ).all()
        )
        counts["lines unpaid"] = int(
            connection.execute(
                text(
                    "SELECT count(*) FROM daily_line l LEFT JOIN payment_instruction p"
                    " ON p.instruction_id = l.instruction_id"
                    " WHERE l.withdrawn_at IS NULL AND (p.status IS NULL OR p.status <> 'SUCCESS')"
                )
            ).scalar_one()
        )
    return counts


def run(
    settlements: int,
    hospitals: int,
    regions: int,
    year: int,
    profile: str | None,
    until: date | None = None,
) -> dict[str, Any]:
    total = Timer()
    scenario = build_scenario(settlements, hospitals, regions, year, until)
    scenario.check()
    with fresh_database() as url:
        engine = make_engine(url)
        bench = YearRunner(scenario, engine, settlements, hospitals, year)
        restore = _timed_jobs(bench)
        profiler = cProfile.Profile() if profile else None
        try:
            if profiler:
                profiler.enable()
            bench.play()
        finally:
            if profiler:
                profiler.disable()
                profiler.dump_stats(str(profile))
            restore()
        load_after_year = _load()
        with transaction(bench.factory) as session:
            report = bench._timed("verify", lambda: ledger.verify(session))
        assert report.ok, (
            report.balance_mismatches[:5],
            report.chain_breaks[:5],
            report.trial_balance_fen,
            report.snapshots.problems[:5],
        )
        with transaction(bench.factory) as session:
            trial = bench._timed("trial balance", lambda: ledger.trial_balance(session))
        assert trial.balanced, (trial.debits_fen, trial.credits_fen)
        counts = _counts(engine)
        engine.dispose()
    days = (min(until, date(year + 1, 1, 1)) - date(year, 1, 1)).days if until else bench.days
    assert bench.uploaded == -(-days * settlements // bench.days), (bench.uploaded, settlements)
    return {
        "seconds": dict(bench.seconds),
        "calls": dict(bench.counts),
        "counts": counts,
        "entries": report.entries_checked,
        "trial": (trial.debits_fen, trial.credits_fen, len(trial.accounts)),
        "total": total.seconds,
        "rss": peak_rss_mb(),
        "load_after_year": load_after_year,
        "load_end": _load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settlements", type=int, default=1_300_000)
    parser.add_argument("--hospitals", type=int, default=200)
    parser.add_argument("--regions", type=int, default=5, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument(
        "--until",
        help="stop the clock on this date (a part of the year at the full year's daily rate:"
        " no clearing unless the date is after it)",
    )
    parser.add_argument("--profile", help="write a cProfile of the year's play to this file")
    args = parser.parse_args()
    started = datetime.now().astimezone()
    load_before = _load()
    until = date.fromisoformat(args.until) if args.until else None
    result = run(args.settlements, args.hospitals, args.regions, args.year, args.profile, until)
    seconds = result["seconds"]
    counts = result["counts"]
    calls = result["calls"]
    print(
        f"run {started:%Y-%m-%d %H:%M %Z}: {args.settlements:,} settlements, {args.hospitals}"
        f" hospitals, {args.regions} regions × 2 fund ledgers, year {args.year}"
        + (f", played until {until}" if until else "")
    )
    print()
    print("| stage | wall | what |")
    print("|---|---|---|")
    what = {
        "seeding": f"set-up over the API, appropriations ({calls.get('api seeding', 0):,} calls)",
        "intake": f"{calls.get('intake calls', 0):,} bulk calls, {counts['settlement']:,} settlements",
        "reconciliation": f"{calls.get('api reconciliation', 0):,} reconciliation calls"
        " (a hospital's day and fund, 对账, at 23:00 the next day)",
        "daily batches": f"{calls.get('job daily_batch', 0):,} job runs, {counts['daily_batch']:,}"
        f" batches, {counts['daily_line']:,} lines; {calls.get('api daily batches', 0):,}"
        " approval calls",
        "bank": f"{calls.get('job submission', 0):,} submissions,"
        f" {counts['payment_instruction']:,} instructions {counts['instructions']},"
        f" {calls.get('bank receipts', 0):,} receipts; {calls.get('job bank_statement', 0):,}"
        " statement fetches",
        "statements": f"{counts['monthly_statement']:,} statements {counts['statements']};"
        f" {calls.get('api statements', 0):,} declare/confirm/approve calls",
        "clearing": f"{counts['annual_clearing']:,} clearings {counts['clearings']};"
        f" {calls.get('api clearing', 0):,} calls",
        "other jobs": "alerts, audit finalisation, month-start summary, assistance jobs",
        "verify": f"{result['entries']:,} entries, {counts['ledger_posting']:,} postings: OK",
        "trial balance": f"{result['trial'][2]:,} accounts, debits = credits ="
        f" {_yuan(result['trial'][0])} yuan",
    }
    accounted = 0.0
    for stage in STAGES:
        accounted += seconds.get(stage, 0.0)
        print(f"| {stage} | {seconds.get(stage, 0.0):,.1f} s | {what[stage]} |")
    print(
        f"| runner's own loop, simulator | {result['total'] - accounted:,.1f} s"
        " | the clock, the bank simulator's bookkeeping, database creation |"
    )
    print(f"| **total** | **{result['total']:,.1f} s** | |")
    print()
    print(
        f"peak RSS {result['rss']:.0f} MB; load average (1/5/15 min) before {load_before},"
        f" after the year {result['load_after_year']}, at the end {result['load_end']};"
        f" lines left unpaid {counts['lines unpaid']}"
    )


if __name__ == "__main__":
    main()
