"""`make screenshots`: start the demo through its command line (`fundledger serve --demo`, in a
scratch folder), give each demo person a password (`fundledger users passwd`), then log in as
each role in Debian's Chromium and save a PNG of every console page into docs/screenshots/.

It also times every page over HTTP (20 requests each, the session's cookie) and prints the
median and p95, and warns when a page is wider than the 1366-pixel office screen.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
DEMO_START_S = 600  # the first start plays four months of the demo
TIMED_REQUESTS = 20
# The demo's people (app/demo.py): one per role.
PEOPLE = {
    "hospital": "scenario-H640103",
    "accountant": "scenario-accountant",
    "operator": "scenario-operator",
    "auditor": "scenario-auditor",
    "admin": "scenario-admin",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(folder: Path, port: int, bank_port: int) -> subprocess.Popen[bytes]:
    log = (folder / "serve.log").open("wb")
    command = [str(BIN / "fundledger"), "serve", "--demo", "--port", str(port)]
    command += ["--bank-port", str(bank_port)]
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + DEMO_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the demo stopped; see {folder / 'serve.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit("the demo did not start in time")


def set_passwords(folder: Path) -> dict[str, str]:
    database = next(folder.glob("*.db"), None)
    assert database is not None, "the demo made no database"
    env = dict(os.environ, FUNDLEDGER_DATABASE_URL=f"sqlite:///{database}")
    passwords = {}
    for role, name in PEOPLE.items():
        password = secrets.token_urlsafe(12)
        subprocess.run(  # noqa: S603 - our own command line
            [str(BIN / "fundledger"), "users", "passwd", name, "--password-stdin"],
            input=f"{password}\n".encode(),
            env=env,
            check=True,
            capture_output=True,
        )
        passwords[role] = password
    return passwords


def log_in(page: Page, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url.rstrip("/").endswith("/console"), f"{name} could not log in"


def shoot(page: Page, path: str, base: str, name: str, *, print_media: bool = False) -> float:
    page.emulate_media(media="print" if print_media else "screen")
    page.goto(f"{base}{path}")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > VIEWPORT["width"]:
        print(f"  WARNING {name}: {width} px wide, more than the {VIEWPORT['width']} px screen")
    page.screenshot(path=OUT / f"{name}.png", full_page=True)
    print(f"  {name}.png  {path}")
    return float(width)


def timings(base: str, cookies: list[dict[str, Any]], paths: list[str]) -> list[str]:
    jar = {c["name"]: c["value"] for c in cookies if c["name"] == "fundledger_session"}
    lines = []
    with httpx.Client(base_url=base, cookies=jar, timeout=30) as client:
        for path in paths:
            seconds = []
            for _ in range(TIMED_REQUESTS):
                started = time.perf_counter()
                response = client.get(path)
                seconds.append(time.perf_counter() - started)
                assert response.status_code in (200, 404), (path, response.status_code)
            seconds.sort()
            p95 = seconds[int(len(seconds) * 0.95) - 1]
            median = statistics.median(seconds)
            lines.append(f"  {path:40} median {median * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms")
    return lines


# The accountant's day (app/console/fund): hospitals of three regions upload yesterday's
# discharges, the operator runs yesterday's daily batch, the accountant approves one of the
# batches through the API; the others wait in the queue.
FUND_HOSPITALS = (("H640103", "640100"), ("H640201", "640200"), ("H640301", "640300"))


def _token(folder: Path, name: str) -> str:
    database = next(folder.glob("*.db"))
    done = subprocess.run(  # noqa: S603 - our own command line
        [str(BIN / "fundledger"), "tokens", "issue", name],
        env=dict(os.environ, FUNDLEDGER_DATABASE_URL=f"sqlite:///{database}"),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1].split()[-1]


def prepare_fund_day(base: str, folder: Path) -> dict[str, str]:
    """Give the accountant's pages something to show; returns the paths to shoot."""
    api = f"{base}/api/v1"
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    with httpx.Client(timeout=60) as client:
        for code, region in FUND_HOSPITALS:
            headers = {"Authorization": f"Bearer {_token(folder, f'scenario-{code}')}"}
            for number in range(6):  # three per fund; the third two days late (补报)
                insutype = ("310", "390")[number % 2]
                day = today - timedelta(days=1 if number < 4 else 3)
                fund = 312_345 + 251_003 * number + 1_000 * len(code + region)
                record = {
                    "fixmedins_code": code,
                    "setl_id": f"SHOT{today:%Y%m%d}{code}{number}",
                    "psn_no": f"{region}9{number:07d}",
                    "insutype": insutype,
                    "med_type": "21",
                    "insuplc_admdvs": region[:4] + "04",
                    "setl_time": f"{day}T1{number}:1{number}:00+08:00",
                    "medfee_sumamt": f"{fund * 14 // 1000}.00",
                    "hifp_pay": f"{fund // 100}.{fund % 100:02d}",
                    "hifob_pay": "0.00",
                }
                answer = client.post(f"{api}/settlements", json=record, headers=headers)
                assert answer.status_code in (200, 201), answer.text
        operator = {"Authorization": f"Bearer {_token(folder, 'scenario-operator')}"}
        run = client.post(
            f"{api}/jobs/daily_batch/run",
            json={"business_date": yesterday, "again": True},
            headers=operator,
        )
        assert run.status_code == 200, run.text
        accountant = {"Authorization": f"Bearer {_token(folder, 'scenario-accountant')}"}
        pushed = client.get(
            f"{api}/daily-batches",
            params={"business_date": yesterday, "status": "PUSHED"},
            headers=accountant,
        ).json()["items"]
        assert len(pushed) >= 2, pushed
        approved = client.post(f"{api}/daily-batches/{pushed[0]['id']}/approve", headers=accountant)
        assert approved.status_code == 200, approved.text
        # Today's submission (a working day): the approved batch goes to the bank simulator,
        # whose receipts come back within a second or two (the monitor's counts).
        client.post(
            f"{api}/jobs/submission/run",
            json={"business_date": today.isoformat(), "again": True},
            headers=operator,
        )
        time.sleep(3)
        waiting = pushed[1]["id"]
        lines = client.get(f"{api}/daily-batches/{waiting}", headers=accountant).json()["lines"]
        statement = client.get(f"{api}/statements", params={"limit": 1}, headers=accountant)
    statement_id = statement.json()["items"][0]["id"]
    return {
        "fund-queue": "/console/fund/queue",
        "fund-batch": f"/console/fund/batches/{waiting}",
        "fund-line": f"/console/fund/batches/{waiting}/lines/{lines[0]['fixmedins_code']}",
        "fund-statement": f"/console/fund/statements/{statement_id}",
        "fund-payments": "/console/fund/payments",
        "fund-funds": "/console/fund/funds",
        "fund-assistance-payments": "/console/fund/assistance/payments",
    }


# The hospital's pages (app/console/hospital) on the demo's months (July to October 2026).
HOSPITAL_PAGES = [
    ("hospital-home", "/console/?month=2026-09"),
    ("hospital-settlements", "/console/hospital/settlements"),
    ("hospital-daily", "/console/hospital/daily"),
    ("hospital-statements", "/console/hospital/statements"),
    ("hospital-audits", "/console/hospital/audits"),
    ("hospital-clearings", "/console/hospital/clearings"),
    ("hospital-account", "/console/hospital/account?from=2026-09-01&to=2026-10-31"),
    ("hospital-declarations", "/console/hospital/declarations?period=2026-09"),
    ("hospital-assistance-statements", "/console/hospital/assistance-statements"),
]


def first_link(page: Page, pattern: str) -> str:
    """The first link of the page's list whose address fits the pattern."""
    for link in page.locator("table.list tbody a").all():
        href = link.get_attribute("href") or ""
        if re.fullmatch(pattern, href):
            return href
    raise AssertionError(f"no link like {pattern} on {page.url}")


def hospital_pages(page: Page, base: str) -> list[str]:
    """Shoot every hospital page; the paths to time."""
    paths = []
    for name, path in HOSPITAL_PAGES:
        shoot(page, path, base, name)
        paths.append(path)
    shoot(page, "/console/hospital/statements", base, "hospital-statements")
    statement = first_link(page, r"/console/hospital/statements/\d+")
    shoot(page, statement, base, "hospital-statement")
    shoot(page, f"{statement}/print", base, "hospital-statement-print", print_media=True)
    shoot(page, "/console/hospital/settlements", base, "hospital-settlements")
    trace = first_link(page, r"/console/hospital/settlements/\d+")
    shoot(page, trace, base, "hospital-trace")
    shoot(page, "/console/hospital/audits", base, "hospital-audits")
    audit = first_link(page, r"/console/hospital/audits/\d+")
    shoot(page, audit, base, "hospital-audit")
    paths += [statement, f"{statement}/print", f"{statement}/export.xlsx", trace, audit]
    page.goto(f"{base}/console/hospital/clearings")
    if page.locator("table.list tbody a").count():  # the demo's year may not be cleared yet
        clearing = first_link(page, r"/console/hospital/clearings/\d+")
        shoot(page, clearing, base, "hospital-clearing")
        shoot(page, f"{clearing}/print", base, "hospital-clearing-print", print_media=True)
        paths.append(clearing)
    return paths


# The office pages (app/console/office/): (path, PNG name) per role, after the 首页.
OFFICE_PAGES = {
    "operator": [
        ("/console/alerts?state=all", "operator-alerts"),
        ("/console/jobs", "operator-jobs"),
        ("/console/calendar/2026?day=2026-10-01", "operator-calendar"),
        ("/console/audits", "operator-audits"),
        ("/console/audits/import", "operator-audit-import"),
        ("/console/appeals", "operator-appeals"),
        ("/console/advances", "operator-advances"),
        ("/console/assessments", "operator-assessments"),
        ("/console/institutions", "operator-institutions"),
        ("/console/institutions/H640103", "operator-institution"),
        ("/console/fund-ledgers/640100/310", "operator-fund-ledger"),
        ("/console/assistance/persons", "operator-assistance-persons"),
    ],
    "auditor": [
        ("/console/ledger/accounts?region=640100&insutype=310", "auditor-accounts"),
        ("/console/ledger/entries?fixmedins_code=H640103", "auditor-entries"),
        ("/console/ledger/trial-balance", "auditor-trial-balance"),
        ("/console/ledger/verify?run=1", "auditor-verify"),
        ("/console/trail", "auditor-trail"),
        ("/console/calendar/2026", "auditor-calendar-read-only"),
    ],
    "admin": [
        ("/console/users", "admin-users"),
        ("/console/users/scenario-operator", "admin-user"),
    ],
}
AUDIT_FILE = (
    "机构编号,结算ID,规则编码,扣款金额,扣款原因\r\n"
    "H640103,NO-SUCH-SETTLEMENT,R01,120.00,超标准收费\r\n"
    "H640103,S2,R01,12.345,重复收费\r\n"
)


def office_pages(page: Page, base: str, role: str) -> list[str]:
    """Shoot the office pages of a role (and the states only a form reaches); their paths."""
    paths = []
    for path, name in OFFICE_PAGES.get(role, []):
        shoot(page, path, base, name)
        paths.append(path.split("?")[0] if "run=1" in path else path)
    if role == "operator":
        page.goto(f"{base}/console/audits/import")
        page.set_input_files(
            "input[name=file]",
            {"name": "审核结果.csv", "mimeType": "text/csv", "buffer": AUDIT_FILE.encode()},
        )
        page.click("text=检查并预览")
        page.screenshot(path=OUT / "operator-audit-import-errors.png", full_page=True)
        print("  operator-audit-import-errors.png  (an import with bad rows)")
        page.goto(f"{base}/console/jobs")
        page.locator("#job-daily_batch input[name=business_date]").fill("2099-01-01")
        page.locator("#job-daily_batch button").click()
        page.screenshot(path=OUT / "operator-jobs-refused.png", full_page=True)
        print("  operator-jobs-refused.png  (a future date refused)")
    if role == "admin":
        page.goto(f"{base}/console/users/scenario-operator")
        page.click("text=签发新令牌")
        page.screenshot(path=OUT / "admin-token-once.png", full_page=True)
        print("  admin-token-once.png  (a token shown once; the demo's scratch copy)")
    return paths


def run(base: str, passwords: dict[str, str], fund_paths: dict[str, str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    report: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        page = context.new_page()
        shoot(page, "/console/login", base, "login")
        context.close()
        for role, name in PEOPLE.items():
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
            page = context.new_page()
            log_in(page, base, name, passwords[role])
            shoot(page, "/console/", base, f"{role}-home")
            paths = ["/console/"]
            if role == "hospital":
                paths += hospital_pages(page, base)
                shoot(page, "/console/statements/999999999", base, "not-found")
            paths += office_pages(page, base, role)
            if role == "accountant":
                for name, path in fund_paths.items():
                    shoot(page, path, base, name)
                shoot(
                    page,
                    fund_paths["fund-statement"],
                    base,
                    "fund-statement-print",
                    print_media=True,
                )
                paths += list(fund_paths.values())
            report.append(f"{role}:")
            report += timings(base, context.cookies(), paths)
            context.close()
        browser.close()
    print("render times over HTTP (demo data, this machine):")
    print("\n".join(report))


def main() -> int:
    if not os.access(CHROMIUM, os.X_OK):
        print(f"{CHROMIUM} is missing: make browser", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="fundledger-screens-") as scratch:
        folder = Path(scratch)
        port, bank_port = free_port(), free_port()
        print(f"starting the demo on port {port} (it plays the demo data first)")
        process = start_demo(folder, port, bank_port)
        try:
            base = f"http://127.0.0.1:{port}"
            passwords = set_passwords(folder)
            run(base, passwords, prepare_fund_day(base, folder))
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    print(f"screenshots in {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
