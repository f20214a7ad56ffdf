"""Faults on purpose: the service, its own process on PostgreSQL, is killed with SIGKILL at each
failpoint (app/failpoints.py) of a bulk upload, the daily submission, a bank send, a bank
callback and the monthly computation; it is started again without that failpoint and the
request that died is sent again (a job run again, a callback delivered again), as a client
or the bank would. The end equals the same flow without faults (the scenario result, ledger
entries per kind, every instruction and its status), `ledger verify` finds nothing, no
business key is posted twice and no callback stays half-applied.

The service is forked from a zygote that imported everything once, so a restart costs a
fork, not seconds of imports (tests/support/fault_service.py). Every failpoint fires exactly
once. To stay within minutes, one play arms them all and the service comes back with the
ones not fired yet, so the kills also pile up (the upload killed before and after its commit, the callback killed
three times over); `submission.after_commit` has a play of its own (after it nothing is
left for the job to send, so `bank.send.after_request` would never fire in the same play).
FUNDLEDGER_KILL_EACH=1 plays every failpoint alone instead (a fresh database each).

The flow (2026, Shanghai time): 03-02 10:00 two hospitals upload settlements in bulk, 23:00
they reconcile; 03-03 00:30 the daily batch, 09:00 approved, 14:30 submitted, the bank's
callbacks, the re-query sweep (the scheduler's job: run here, in the test's process); 04-10
both declare March; the monthly computation on its date.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import failpoints
from app.bank import sending
from app.bank.gateway import HttpBankGateway
from app.bank.simserver import serve_in_thread
from app.bank.simulator import BankSimulator
from app.clock import SHANGHAI
from app.config import DEV_BANK_SECRET, Settings
from app.db import make_engine, make_sessionmaker, transaction
from app.jobcontext import JobContext
from app.monthly import rules as monthly_rules
from app.scenarios.model import Scenario
from app.workdays.rules import WorkCalendar
from tests.support import builders
from tests.support.databases import backend, fresh_database
from tests.support.fault_service import SharedClock
from tests.support.faults import differences, outcome, problems

pytestmark = pytest.mark.skipif(
    backend() != "postgresql",
    reason="kill -9 of the service process: run on PostgreSQL (the CI half); "
    "SQLite plays the bank-fault soak only",
)
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
UPLOAD_DAY = date(2026, 3, 2)
PAY_DAY = date(2026, 3, 3)
SETTLEMENTS = {  # hospital -> hifp_pay of each of its settlements of 03-02
    "H001": ["1000.00", "2345.67", "333.33"],
    "H002": ["4000.10", "1.01"],
}
SCENARIO = Scenario.model_validate(  # the world, for the result's receivables
    {
        "name": "kill-nine",
        "start": "2026-03-01",
        "end": "2026-05-01",
        "regions": [{"code": "640100", "name": "银川市"}],
        "funds": [{"region": "640100", "insutype": "310", "effective_from": "2026-01-01"}],
        "institutions": [
            {
                "code": code,
                "name": code,
                "level": 3,
                "region": "640100",
                "insutypes": ["310"],
                "bank_account": "0",
                "bank_account_name": code,
                "bank_code": "0",
            }
            for code in SETTLEMENTS
        ],
    }
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Flow:
    """One play of the flow against the service process; `failpoint` kills its first run."""

    def __init__(self, url: str, folder: Path, points: tuple[str, ...]) -> None:
        self.url = url
        self.folder = folder
        self.armed = list(points)  # not fired yet
        self.kills: list[str] = []
        self.clock = SharedClock(at(UPLOAD_DAY, 8), folder / "now")
        self.bank = BankSimulator(secret=DEV_BANK_SECRET, clock=self.clock)
        self.bank_url, self.stop_bank = serve_in_thread(self.bank.app)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.engine = make_engine(url)
        self.factory = make_sessionmaker(self.engine)
        self.headers: dict[str, dict[str, str]] = {}
        self.log = (folder / "service.log").open("ab")
        self.http = httpx.Client(timeout=30)
        self.pid: int | None = None
        self.zygote = self._zygote()
        self.result: dict[str, Any] = {}
        self.found: list[str] = []

    # -- the service process -------------------------------------------------------------------

    def _zygote(self) -> subprocess.Popen[str]:
        """The process that forks the service (its imports done once: a start of Python and
        the app costs seconds)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("FUNDLEDGER_")}
        env.update(
            FUNDLEDGER_ENVIRONMENT="test",
            FUNDLEDGER_DATABASE_URL=self.url,
            FUNDLEDGER_BANK_URL=self.bank_url,
            FUNDLEDGER_CALLBACK_URL=f"{self.base}/api/v1/bank/receipts",
            FUNDLEDGER_LOG_LEVEL="WARNING",
        )
        command = [sys.executable, "-m", "tests.support.fault_service"]
        return subprocess.Popen(
            [*command, "--port", str(self.port), "--clock-file", str(self.folder / "now")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def _tell(self, line: str) -> None:
        assert self.zygote.stdin is not None
        self.zygote.stdin.write(line + "\n")
        self.zygote.stdin.flush()

    def _hear(self) -> list[str]:
        """The zygote's next line; a service that hangs instead of dying fails the test."""
        assert self.zygote.stdout is not None
        ready, _, _ = select.select([self.zygote.stdout], [], [], START_TIMEOUT_S)
        assert ready, f"no word from the zygote in {START_TIMEOUT_S} s:\n{self._log()}"
        answer = self.zygote.stdout.readline().split()
        assert answer, f"the zygote ended:\n{self._log()}"
        return answer

    def start(self) -> None:
        """A service process with the failpoints not fired yet, answering."""
        self._tell("start " + ",".join(f"{point}=kill" for point in self.armed))
        started, pid = self._hear()
        assert started == "started"
        self.pid = int(pid)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    self.http.close()
                    self.http = httpx.Client(timeout=30)  # no connection to the dead one
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the service did not answer in {START_TIMEOUT_S} s:\n{self._log()}")

    def _ended(self) -> int:
        ended, pid, code = self._hear()
        assert ended == "ended" and int(pid) == self.pid, (ended, pid, code)
        self.pid = None
        return int(code)

    def _log(self) -> str:
        return (self.folder / "service.log").read_text(errors="replace")[-3000:]

    def fired(self) -> list[str]:
        """The failpoints that killed the service so far, from its log, in order."""
        lines = (self.folder / "service.log").read_text(errors="replace").splitlines()
        return [
            line.removeprefix("failpoint ").removesuffix(": kill")
            for line in lines
            if line.startswith("failpoint ") and line.endswith(": kill")
        ]

    def _restart_after_kill(self, what: str) -> None:
        code = self._ended()
        assert code == -signal.SIGKILL, f"{what}: the service ended with {code}:\n{self._log()}"
        point = self.fired()[-1]
        self.kills.append(f"{point} during {what}")
        self.armed.remove(point)  # the fault happened once
        self.start()

    def stop(self) -> None:
        if self.pid is not None:
            os.kill(self.pid, signal.SIGTERM)  # the service this test started
            self._ended()
        assert self.zygote.stdin is not None
        self.zygote.stdin.close()
        try:
            self.zygote.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.zygote.kill()
            self.zygote.wait(timeout=15)
        self.log.close()
        self.http.close()
        self.stop_bank()
        self.engine.dispose()

    def send(
        self, method: str, path: str, actor: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """The request, sent again after the service died under it (a client's retry)."""
        headers = {**kwargs.pop("headers", {}), **(self.headers[actor] if actor else {})}
        for _ in range(len(failpoints.POINTS) + 1):  # each failpoint kills once at most
            try:
                return self.http.request(method, self.base + path, headers=headers, **kwargs)
            except httpx.TransportError:
                self._restart_after_kill(f"{method} {path}")
        raise AssertionError(f"{method} {path}: the service died more often than armed")

    def must(self, method: str, path: str, actor: str, body: Any = None) -> Any:
        response = self.send(method, path, actor, json=body)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json()

    # -- the flow ------------------------------------------------------------------------------

    def world(self) -> None:
        with transaction(self.factory) as session:
            for code in SETTLEMENTS:
                builders.institution(session, code, start=date(2026, 3, 1))
                token = builders.user_token(session, f"user-{code}", "hospital", code)
                self.headers[code] = builders.bearer(token)
            for name, role in (("op", "operator"), ("acc", "accountant")):
                self.headers[name] = builders.bearer(builders.user_token(session, name, role))

    def job(self, name: str, day: date) -> None:
        outcome = self.must("POST", f"/api/v1/jobs/{name}/run", "op", {"business_date": str(day)})
        assert outcome["status"] == "SUCCEEDED", outcome

    def sweep(self) -> None:
        """The scheduler's re-query sweep (its own process in production): ask for results
        30 minutes old, send again what was saved and never left."""
        gateway = HttpBankGateway(
            self.bank_url, secret=DEV_BANK_SECRET, bank_id="FUNDBANK", clock=self.clock
        )
        settings = Settings(
            environment="test",
            database_url=self.url,
            callback_url=f"{self.base}/api/v1/bank/receipts",
        )
        ctx = JobContext(self.factory, self.engine, self.clock, settings, gateway, runner="test")
        try:
            sending.requery_due(ctx)
        finally:
            gateway.close()

    def deliver(self) -> None:
        """The bank's callbacks due now; one that died with the service is delivered again."""
        self.bank.deliver_due(
            lambda url, headers, body: (
                self.send(
                    "POST", url.removeprefix(self.base), content=body, headers=headers
                ).status_code
            )
        )

    def play(self) -> None:
        self.world()
        self.start()
        self.clock.set(at(UPLOAD_DAY, 9))
        self.must(
            "POST",
            "/api/v1/fund-ledgers/640100/310/appropriations",
            "acc",
            {"amount": "50000.00", "reference": "KILL-NINE-1"},
        )
        self.clock.set(at(UPLOAD_DAY, 10))
        for code, amounts in SETTLEMENTS.items():
            items = [
                {
                    "fixmedins_code": code,
                    "setl_id": f"{code}-S{index}",
                    "psn_no": f"P{index}",
                    "insutype": "310",
                    "med_type": "21",
                    "insuplc_admdvs": "640100",
                    "setl_time": at(UPLOAD_DAY, 9, index).isoformat(),
                    "medfee_sumamt": "9000.00",
                    "hifp_pay": amount,
                    "hifob_pay": "0.00",
                }
                for index, amount in enumerate(amounts)
            ]
            answer = self.must("POST", "/api/v1/settlements/bulk", code, {"items": items})
            # sent again after a kill: each item is created or, if stored before, a duplicate
            assert answer["created"] + answer["duplicate"] == len(items), answer
        self.clock.set(at(UPLOAD_DAY, 23))
        for code, amounts in SETTLEMENTS.items():
            total = sum(int(a.replace(".", "")) for a in amounts)
            self.must(
                "POST",
                "/api/v1/reconciliations",
                code,
                {
                    "fixmedins_code": code,
                    "insutype": "310",
                    "setl_date": str(UPLOAD_DAY),
                    "count": len(amounts),
                    "fund_amount": f"{total // 100}.{total % 100:02d}",
                },
            )
        self.clock.set(at(PAY_DAY, 0, 30))
        self.job("daily_batch", UPLOAD_DAY)
        self.clock.set(at(PAY_DAY, 9))
        for batch in self.must("GET", "/api/v1/daily-batches?status=PUSHED", "acc")["items"]:
            self.must("POST", f"/api/v1/daily-batches/{batch['id']}/approve", "acc")
        self.clock.set(at(PAY_DAY, 14, 30))
        self.job("submission", PAY_DAY)
        self.clock.set(at(PAY_DAY, 14, 36))
        self.sweep()  # what a kill left saved and unsent goes now (same instruction id)
        self.clock.set(at(PAY_DAY, 14, 40))
        self.deliver()
        self.clock.set(at(PAY_DAY, 15, 20))
        self.sweep()  # what is still without a result 30 minutes on is asked for
        self.deliver()
        self.clock.set(at(date(2026, 4, 10), 9))
        for code in SETTLEMENTS:
            self.must(
                "POST",
                "/api/v1/declarations",
                code,
                {"fixmedins_code": code, "insutype": "310", "period": "2026-03"},
            )
        compute_day = monthly_rules.computation_date("2026-03", 15, WorkCalendar())
        self.clock.set(at(compute_day, 1))
        self.job("monthly_compute", compute_day)

    def outcome(self) -> tuple[dict[str, Any], list[str]]:
        with transaction(self.factory) as session:
            return outcome(session, SCENARIO), problems(session)


def _play(points: tuple[str, ...], folder: Path) -> Flow:
    with fresh_database() as url:
        flow = Flow(url, folder, points)
        try:
            flow.play()
            flow.result, flow.found = flow.outcome()
        finally:
            flow.stop()
    return flow


ALONE = ("submission.after_commit",)
PLAYS = {
    "all-but-after-commit": tuple(p for p in failpoints.POINTS if p not in ALONE),
    "submission-after-commit": ALONE,
}
if os.environ.get("FUNDLEDGER_KILL_EACH"):  # every failpoint in a play of its own (slower)
    PLAYS = {point: (point,) for point in failpoints.POINTS}


@pytest.fixture(scope="module")
def calm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    flow = _play((), tmp_path_factory.mktemp("calm"))
    assert not flow.kills
    assert not flow.found, "\n".join(flow.found)
    result = flow.result
    # the flow moves money at every step: paid daily lines, computed statements
    assert [line["status"] for line in result["daily_lines"]] == ["PAID", "PAID"], result
    assert result["statements"] == {"COMPUTED": 2}, result
    yield flow


def test_every_failpoint_is_in_a_play() -> None:
    assert sorted(p for points in PLAYS.values() for p in points) == sorted(failpoints.POINTS)


@pytest.mark.parametrize("play", sorted(PLAYS))
def test_killed_at_every_failpoint_ends_as_without(play: str, calm: Flow, tmp_path: Path) -> None:
    flow = _play(PLAYS[play], tmp_path)
    # each armed failpoint killed the service once, where its step is
    assert sorted(flow.fired()) == sorted(PLAYS[play]), flow.kills
    assert not flow.armed
    assert not flow.found, "\n".join(flow.found)
    assert not differences(flow.result, calm.result), "\n".join(
        differences(flow.result, calm.result)
    )
