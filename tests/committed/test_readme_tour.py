"""The README's Demo tour, run as a newcomer runs it: `fundledger serve --demo` plays a fresh
demo (real uvicorn, real bank simulator), the `export` line it prints is pasted, then the
tour's shell block is taken from README.md and run step by step with real curl. A step fails
on an error answer, an empty value or a traceback. The README and the code cannot disagree.

SQLite only: the demo is an embedded SQLite database (the PostgreSQL half skips this file)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from app.workdays.rules import WorkCalendar
from tests.support import databases
from tests.support.docs import assert_served_locally

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(databases.PG_URL is not None, reason="the demo runs on SQLite"),
    pytest.mark.skipif(shutil.which("curl") is None, reason="the tour needs curl"),
]

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent
DEMO_START_TIMEOUT_S = 900  # the first start plays four months of the demo
TOUR_TIMEOUT_S = 300
EMPTY = {"", "None", "null", "[]", "{}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment() -> dict[str, str]:
    """A newcomer's shell: no fundledger settings, the virtualenv not on the PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDLEDGER_")}
    env.pop("VIRTUAL_ENV", None)
    parts = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in parts if Path(p or ".").resolve() != BIN.resolve())
    return env


@dataclass
class LiveDemo:
    folder: Path
    port: int = field(default_factory=_free_port)
    bank_port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def ports(self) -> list[str]:
        return ["--port", str(self.port), "--bank-port", str(self.bank_port)]

    @property
    def log(self) -> Path:
        return self.folder / f"serve-{self.starts}.log"

    def start(self) -> str:
        """`fundledger serve --demo` (as `make run` runs it); returns the printed export line."""
        self.starts += 1
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [BIN / "fundledger", "serve", "--demo", *self.ports()],
                cwd=self.folder,
                env=_environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + DEMO_START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve --demo stopped:\n{self.output()}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        else:
            raise AssertionError(f"serve --demo did not answer:\n{self.output()[-3000:]}")
        exports = [line for line in self.output().splitlines() if line.startswith("export ")]
        assert len(exports) == 1, self.output()
        return exports[0]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveDemo, str]]:
    folder = tmp_path_factory.mktemp("fresh-clone")
    (folder / ".venv").symlink_to(sys.prefix)  # as in a checkout after `make run`
    live = LiveDemo(folder)
    try:
        yield live, live.start()
    finally:
        live.stop()


def tour_steps() -> list[tuple[str, str]]:
    """The shell block of README's "Demo tour", cut at its numbered comments."""
    section = README.read_text(encoding="utf-8").split("\n## Demo tour\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the tour is one shell block"
    parts = re.split(r"(?m)^(?=# \d+\. )", blocks[0])
    steps = [("set-up", parts[0])] + [(part.splitlines()[0], part) for part in parts[1:]]
    assert len(steps) >= 7, steps
    return steps


def _script(steps: list[tuple[str, str]], export_line: str) -> str:
    placeholder = [line for line in steps[0][1].splitlines() if line.startswith("export ")]
    assert len(placeholder) == 1, "the tour starts with the export line to paste"
    names = re.findall(r"(\w+)=", placeholder[0])
    assert names == re.findall(r"(\w+)=", export_line), "README and serve --demo disagree"
    lines = [
        "set -eo pipefail",
        # whatever the tour's own options, an error answer fails its step
        'curl() { command curl --fail-with-body "$@"; }',
        "trap 'echo \"@@FAILED line $LINENO: $BASH_COMMAND\"' ERR",
    ]
    for index, (_, text) in enumerate(steps):
        if index == 0:
            text = text.replace(placeholder[0], export_line)
        lines += [f"echo '@@STEP {index}'", text]
        for name in dict.fromkeys(re.findall(r"(?m)^([A-Z_]+)=\$\(", text)):
            lines.append(
                f'case "${name}" in {"|".join(repr(e) for e in EMPTY)}) '
                f'echo "@@EMPTY {name}"; exit 3;; esac'
            )
    lines.append("echo '@@STEP end'")
    return "\n".join(lines) + "\n"


def run_tour(live: LiveDemo, export_line: str) -> str:
    steps = tour_steps()
    script = live.folder / "tour.sh"
    script.write_text(_script(steps, export_line), encoding="utf-8")
    result = subprocess.run(
        ["bash", str(script)],
        cwd=live.folder,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=TOUR_TIMEOUT_S,
    )
    output = result.stdout + result.stderr
    reached = re.findall(r"(?m)^@@STEP (\S+)$", result.stdout)
    last = reached[-1] if reached else "0"
    title = steps[int(last)][0] if last.isdigit() else "end"
    assert result.returncode == 0 and last == "end", f"tour failed in {title!r}:\n{output}"
    assert "Traceback" not in output, output
    _check_answers(result.stdout)
    return result.stdout


def _check_answers(stdout: str) -> None:
    """Every JSON answer the tour printed says something: no empty object or list."""
    answers = 0
    for line in stdout.splitlines():
        if not line.startswith(("{", "[")):
            continue
        value = json.loads(line)
        answers += 1
        assert value not in ({}, []), f"empty answer: {line}"
        if isinstance(value, dict):
            assert value.get("items", [None]) != [], f"empty list: {line[:300]}"
    assert answers >= 6, stdout


def test_the_readme_tour_runs_as_written(demo: tuple[LiveDemo, str]) -> None:
    live, export_line = demo
    stdout = run_tour(live, export_line)
    assert re.search(r"paid: instruction D\S+, bank receipt \S+", stdout), stdout
    assert "ledger verified" in stdout, stdout
    assert "RECONCILED 调节后差额 0.00" in stdout, stdout
    assert "three flows agree" in stdout, stdout
    downloads = sorted(live.folder.glob("*.xlsx"))
    assert len(downloads) >= 3, downloads
    for path in downloads:
        sheet = load_workbook(path).worksheets[0]
        assert sheet.max_row > 1, f"{path.name} has no rows"
    # A newcomer runs it again (after a typo, say): it works the second time too.
    run_tour(live, export_line)
    log = live.output()
    assert "Traceback" not in log, log[-5000:]
    assert not re.search(r'" 5\d\d ', log), "the server answered 5xx during the tour"
    assert not (live.folder / "fundledger.db").exists(), "the tour created a stray database"


def test_the_demos_bank_statements_reconcile_to_the_fen(demo: tuple[LiveDemo, str]) -> None:
    """Every working day of the demo's months has the bank's statement of every fund
    ledger, each reconciled with the ledger to the fen (the demo refuses to finish playing
    unless the three-flow check passes)."""
    live, _ = demo
    with sqlite3.connect(live.folder / "fundledger-demo.db") as connection:
        rows = connection.execute(
            "SELECT statement_date, status, unexplained_fen, closing_fen - bank_only_fen"
            " + ledger_only_fen - ledger_balance_fen FROM bank_statement"
            " WHERE superseded_at IS NULL"
        ).fetchall()
        funds = connection.execute("SELECT count(*) FROM fund_ledger").fetchone()[0]
    calendar = WorkCalendar()
    working = [
        date(2026, 8, 1) + timedelta(days=n)
        for n in range(80)
        if calendar.is_working(date(2026, 8, 1) + timedelta(days=n))
    ]
    assert working[-1] == date(2026, 10, 19)
    by_day: dict[str, int] = {}
    for day, status, unexplained, difference in rows:
        assert (status, unexplained, difference) == ("RECONCILED", 0, 0), day
        by_day[day] = by_day.get(day, 0) + 1
    assert all(by_day.get(day.isoformat()) == funds for day in working), by_day
    assert funds == 10


def test_the_live_docs_load_nothing_from_outside(demo: tuple[LiveDemo, str]) -> None:
    live, _ = demo
    base = f"http://127.0.0.1:{live.port}"

    def get(url: str) -> httpx.Response:
        return httpx.get(base + url, timeout=30)

    for page in ("/docs", "/redoc"):
        assert len(assert_served_locally(get, page)) >= 2


def test_busy_ports_are_refused_before_anything_else(
    demo: tuple[LiveDemo, str], tmp_path: Path
) -> None:
    live, _ = demo
    cases = [
        ["--port", str(live.port), "--bank-port", str(_free_port())],
        ["--port", str(_free_port()), "--bank-port", str(live.bank_port)],
    ]
    for ports in cases:
        started = time.monotonic()
        result = subprocess.run(
            [BIN / "fundledger", "serve", "--demo", *ports],
            cwd=tmp_path,
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1, result
        assert result.stdout == "", result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "port in use" in lines[0], result.stderr
        assert "make run PORT=" in lines[0]
        assert time.monotonic() - started < 60  # refused at once, not after playing the demo
        assert list(tmp_path.iterdir()) == [], "nothing is created before the ports are checked"


def test_a_restart_prints_new_tokens_and_revokes_the_old(demo: tuple[LiveDemo, str]) -> None:
    live, first_line = demo
    first = dict(re.findall(r"(\w+)=(\S+)", first_line))
    live.stop()
    second = dict(re.findall(r"(\w+)=(\S+)", live.start()))
    assert "playing the Ningxia demo" not in live.output(), "the kept demo is not played again"
    me = f"http://127.0.0.1:{live.port}/api/v1/me"
    for role in ("ADMIN", "OPERATOR", "ACCOUNTANT", "AUDITOR", "HOSPITAL"):
        assert first[role] != second[role]
        old = httpx.get(me, headers={"Authorization": f"Bearer {first[role]}"}, timeout=30)
        assert old.status_code == 401, old.text
        new = httpx.get(me, headers={"Authorization": f"Bearer {second[role]}"}, timeout=30)
        assert new.status_code == 200, new.text
