"""The README's Demo tour, run as a newcomer runs it: `fundledger serve --demo` plays a fresh
demo (real uvicorn, real bank simulator), the `export` line it prints is pasted, then the
tour's shell block is taken from README.md and run step by step with real curl. A step fails
on an error answer, an empty value or a traceback. The README and the code cannot disagree.
The tour in the console is walked over HTTP with the printed logins, through the real login
form (its CSRF token and cookie), as the hospital finance officer and the fund accountant.

SQLite only: the demo is an embedded SQLite database (the PostgreSQL half skips this file)."""

from __future__ import annotations

import html
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
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from app.clock import SHANGHAI
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


def _script(steps: list[tuple[str, str]], export_line: str, extra: str = "") -> str:
    """The steps as one bash script; `extra` runs right after the set-up (the first step)."""
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
            text = text.replace(placeholder[0], export_line) + extra
        lines += [f"echo '@@STEP {index}'", text]
        for name in dict.fromkeys(re.findall(r"(?m)^([A-Z_]+)=\$\(", text)):
            lines.append(
                f'case "${name}" in {"|".join(repr(e) for e in EMPTY)}) '
                f'echo "@@EMPTY {name}"; exit 3;; esac'
            )
    lines.append("echo '@@STEP end'")
    return "\n".join(lines) + "\n"


def clear_of_the_cutoff(seconds: float) -> None:
    """Start what may last `seconds` where it ends before the demo's cut-off minute, 23:59 in
    Shanghai on the service's real clock (README: the tour works at any time but that minute;
    step 4 sends nothing from 23:59), or else just after midnight: then it also stays within
    one business date (TODAY in step 4, 今日已处理 in the console)."""
    now = datetime.now(SHANGHAI)
    cutoff = datetime.combine(now.date(), wall_time(23, 59), tzinfo=SHANGHAI)
    if now + timedelta(seconds=seconds) >= cutoff:
        time.sleep((cutoff + timedelta(minutes=1, seconds=1) - now).total_seconds())


def run_tour(
    live: LiveDemo,
    export_line: str,
    only: list[int] | None = None,
    extra: str = "",
    answers: int = 6,
) -> str:
    """Run the tour (or the steps `only`, the set-up always first) and return what it printed."""
    steps = tour_steps()
    if only is not None:
        steps = [steps[0]] + [steps[index] for index in only if index != 0]
    script = live.folder / "tour.sh"
    script.write_text(_script(steps, export_line, extra), encoding="utf-8")
    clear_of_the_cutoff(TOUR_TIMEOUT_S)  # a run that passes ends within its timeout
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
    _check_answers(result.stdout, answers)
    return result.stdout


def _check_answers(stdout: str, at_least: int) -> None:
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
    assert answers >= at_least, stdout


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


LOGIN_ROW = re.compile(r"(?m)^  (hospital|accountant|operator|auditor|admin) +(\S+) +(\S+)")
CONSOLE_ROLES = {"hospital", "accountant", "operator", "auditor", "admin"}


def printed_logins(output: str) -> dict[str, tuple[str, str]]:
    """role -> (name, password): the table `serve --demo` printed below the console's address."""
    table = output.split("The console (医保基金结算工作台): ", 1)[1].split("\nAPI docs:", 1)[0]
    found = {role: (name, password) for role, name, password in LOGIN_ROW.findall(table)}
    assert set(found) == CONSOLE_ROLES, table
    return found


def console_tour() -> tuple[str, list[str]]:
    """README's "The tour in the console": the address it opens and its numbered items."""
    section = README.read_text(encoding="utf-8").split("\n### The tour in the console\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    addresses = re.findall(r"Open <(http://[^>]+)>", section)
    items = re.findall(r"(?ms)^\d\. (.*?)(?=^\d\. |^$)", section)
    assert len(addresses) == 1 and len(items) >= 2, section
    return addresses[0], [" ".join(item.split()) for item in items]


class Console:
    """One browser over HTTP: its cookies kept, each redirect looked at."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.seen: list[str] = []  # every page's HTML, for the labels the README names

    def get(self, path: str, status: int = 200) -> httpx.Response:
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code, response.text[:500])
        self.seen.append(response.text)
        return response

    def submit(self, page: str, action: str, **fields: str) -> httpx.Response:
        """POST the page's form of `action` with its hidden fields (the CSRF token among them)."""
        forms = re.findall(
            rf'(?s)<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page
        )
        assert forms, f"no form for {action}"
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', forms[0]))
        assert "csrf_token" in hidden, forms[0]
        data = {name: html.unescape(value) for name, value in hidden.items()} | fields
        return self.client.post(action, data=data)

    def log_in(self, name: str, password: str) -> None:
        """As a person does: open the console, land on the login form, type, submit."""
        first = self.get("/console/", 303)
        assert first.headers["location"].startswith("/console/login"), first.headers
        form = self.get(first.headers["location"]).text
        answer = self.submit(form, "/console/login", name=name, password=password)
        assert answer.status_code == 303, answer.text[:2000]
        assert answer.headers["location"] == "/console/"

    def link(self, page: str, label: str) -> str:
        """The href of the link labelled `label` on the page."""
        found = re.findall(rf'<a [^>]*?href="([^"]+)"[^>]*>\s*{re.escape(label)}\s*</a>', page)
        assert found, f"no link {label!r}"
        return html.unescape(found[0])

    def shows(self, labels: list[str]) -> None:
        missing = [label for label in labels if not any(label in page for page in self.seen)]
        assert not missing, f"the README names what no page shows: {missing}"


def _tour_names(item: str) -> list[str]:
    return re.findall(r"`(scenario-[^`]+)`", item)


def _bold(item: str) -> list[str]:
    return re.findall(r"\*\*(.+?)\*\*", item)


def test_the_console_tour_with_the_printed_logins(demo: tuple[LiveDemo, str]) -> None:
    live, export_line = demo
    output = live.output()
    assert "new passwords, made for this start" in output
    people = printed_logins(output)
    passwords = [password for _, password in people.values()]
    assert len(set(passwords)) == 5 and all(len(p) >= 16 for p in passwords), people
    address, (hospital_item, accountant_item, *_) = console_tour()
    assert f"The console (医保基金结算工作台): http://127.0.0.1:{live.port}/console/" in output
    assert address == "http://127.0.0.1:8000/console/", "the README opens make run's address"
    base = address.replace(":8000/", f":{live.port}/").removesuffix("/console/")

    # 1. The hospital's finance officer.
    assert _tour_names(hospital_item) == [people["hospital"][0]], hospital_item
    officer = Console(base)
    officer.log_in(*people["hospital"])
    home = officer.get("/console/").text
    assert re.search(r"<h1>银川市第一人民医院<small>（H640103）</small></h1>", home), home[:2000]
    page = home  # this month's on the service's real clock: ‹ back month by month to September
    for _ in range(_months_after_september(home)):
        page = officer.get(officer.link(page, "‹ " + _previous_label(page))).text
    assert "2026年9月共" in page and "2026年9月没有到账记录" not in page, page[:3000]
    daily = officer.get(officer.link(home, "日拨付到账")).text
    assert "电子回单号" in daily and re.search(r"HD\d{10,}", daily), daily[:3000]
    statements = officer.get(officer.link(home, "月度结算单")).text
    assert "2026年8月" in statements and "2026年9月" in statements, statements[:3000]
    statement_path = re.findall(r'href="(/console/hospital/statements/\d+)"', statements)[0]
    statement = officer.get(statement_path).text
    assert "<h1>月度结算单" in statement
    printed = officer.get(officer.link(statement, "打印月度结算确认单")).text
    assert "医疗保障基金月度结算确认单" in printed and "盖章" in printed
    officer.shows(_bold(hospital_item))
    bye = officer.submit(statement, "/console/logout")
    assert bye.status_code == 303 and bye.headers["location"] == "/console/login?bye=1"
    officer.get("/console/", 303)  # logged out

    # 2. The fund accountant: the tour's batch waits in 待审批 after steps 1 and 2.
    assert _tour_names(accountant_item) == [people["accountant"][0]], accountant_item
    assert re.search(r"steps 1 and 2 .*审批通过.* in place of step 3", accountant_item)
    accountant = Console(base)
    accountant.log_in(*people["accountant"])
    assert "<h1>基金财务工作台" in accountant.get("/console/").text
    stdout = run_tour(live, export_line, only=[1, 2], answers=3)
    batch = [
        value
        for value in map(json.loads, re.findall(r"(?m)^\{.*\}$", stdout))
        if "business_date" in value and "id" in value
    ][-1]
    queue_path = accountant.link(accountant.seen[-1], "待审批")
    queue = accountant.get(queue_path).text
    assert "<h1>待审批" in queue
    row = re.search(
        rf'(?s)<form method="post" action="/console/fund/approve"[^>]*>(?:(?!</form>).)*'
        rf'name="doc_id" value="{batch["id"]}"',
        queue,
    )
    assert row, f"batch {batch['id']} is not waiting in 待审批"
    mine = queue[row.start() :]
    clear_of_the_cutoff(60)  # approved and listed under 今日已处理 on one business date
    approved = accountant.submit(mine, "/console/fund/approve")
    assert approved.status_code == 303, approved.text[:2000]
    after = accountant.get(approved.headers["location"]).text
    assert f'name="doc_id" value="{batch["id"]}"' not in after
    done = after.split("今日已处理", 1)[1]
    assert "今天还没有处理过单据" not in done and batch["business_date"] in done, done[:3000]
    accountant.shows(_bold(accountant_item))
    # ... and the tour goes on with step 4: the batch approved in the console is paid.
    extra = f"\nDAY={batch['business_date']}\nBATCH={batch['id']}\n"
    rest = run_tour(
        live, export_line, only=list(range(4, len(tour_steps()))), extra=extra, answers=2
    )
    assert re.search(r"paid: instruction D\S+, bank receipt \S+", rest), rest


def _months_after_september(home: str) -> int:
    """How many months the hospital's home page is after September 2026: its month is the
    service's today, the real date (December 2026 is three, and one more each month on)."""
    found = re.findall(r'<a href="/console/\?month=(\d{4})-(\d{2})">‹ ', home)
    assert found, "no link to the month before"
    year, month = map(int, found[0])
    return (year * 12 + month + 1) - (2026 * 12 + 9)


def _previous_label(page: str) -> str:
    found = re.findall(r'<a href="/console/\?month=[^"]+">‹ ([^<]+)</a>', page)
    assert found, "no link to the month before"
    return found[0]


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
    first_logins = printed_logins(live.output())
    base = f"http://127.0.0.1:{live.port}"
    before = Console(base)  # logged in before the restart: its session ends with the password
    before.log_in(*first_logins["hospital"])
    live.stop()
    second = dict(re.findall(r"(\w+)=(\S+)", live.start()))
    assert "playing the Ningxia demo" not in live.output(), "the kept demo is not played again"
    assert "kept from an earlier start: its passwords are reset" in live.output()
    second_logins = printed_logins(live.output())
    before.get("/console/", 303)
    for role in ("hospital", "accountant"):
        name, old_password = first_logins[role]
        assert second_logins[role][0] == name and second_logins[role][1] != old_password
        refused = Console(base)
        form = refused.get("/console/login").text
        answer = refused.submit(form, "/console/login", name=name, password=old_password)
        assert answer.status_code == 200 and "用户名或密码不正确" in answer.text
        Console(base).log_in(*second_logins[role])
    me = f"http://127.0.0.1:{live.port}/api/v1/me"
    for role in ("ADMIN", "OPERATOR", "ACCOUNTANT", "AUDITOR", "HOSPITAL"):
        assert first[role] != second[role]
        old = httpx.get(me, headers={"Authorization": f"Bearer {first[role]}"}, timeout=30)
        assert old.status_code == 401, old.text
        new = httpx.get(me, headers={"Authorization": f"Bearer {second[role]}"}, timeout=30)
        assert new.status_code == 200, new.text
