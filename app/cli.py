"""The `fundledger` command line (API.md "Command line and configuration")."""

from __future__ import annotations

import getpass
import logging
import sys
import traceback
import warnings
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.auth.principal import Principal
from app.clock import SystemClock
from app.config import get_settings
from app.db import make_engine, make_sessionmaker, transaction
from app.jobcontext import JobContext
from app.ops import logs

cli = typer.Typer(no_args_is_help=True, add_completion=False, help="fundledger service")
db_cli = typer.Typer(no_args_is_help=True, help="database schema")
calendar_cli = typer.Typer(no_args_is_help=True, help="working-day calendar")
cli.add_typer(db_cli, name="db")
users_cli = typer.Typer(no_args_is_help=True, help="users")
tokens_cli = typer.Typer(no_args_is_help=True, help="bearer tokens")
cli.add_typer(calendar_cli, name="calendar")
cli.add_typer(users_cli, name="users")
cli.add_typer(tokens_cli, name="tokens")
ledger_cli = typer.Typer(no_args_is_help=True, help="the double-entry ledger")
cli.add_typer(ledger_cli, name="ledger")
scenario_cli = typer.Typer(no_args_is_help=True, help="deterministic scenarios")
cli.add_typer(scenario_cli, name="scenario")
jobs_cli = typer.Typer(no_args_is_help=True, help="scheduled jobs")
cli.add_typer(jobs_cli, name="jobs")


NOT_MIGRATED = "database not migrated — run `fundledger db upgrade`"
_OPTIONS = {"debug": False}


class CliError(Exception):
    """A refusal told in one line (exit 1); the message says what to do."""


@cli.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="print the traceback of an error as well")
    ] = False,
) -> None:
    """fundledger: the medical insurance fund service and its tools."""
    _OPTIONS["debug"] = debug


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _existing_engine(url: str) -> Engine:
    """An engine on a database that exists and is migrated: a command other than `serve`
    and `db upgrade` never creates a database file (SQLite would, on first connect)."""
    parsed = make_url(url)
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not database.startswith("file:") and not Path(database).exists():
        raise CliError(
            f"no database at {database} — set FUNDLEDGER_DATABASE_URL "
            "(the demo's: sqlite:///fundledger-demo.db) or create it with "
            "`fundledger db upgrade`"
        )
    from app.migrate import is_at_head

    engine = make_engine(url)
    with engine.connect() as connection:
        if not is_at_head(connection):
            engine.dispose()
            raise CliError(f"{NOT_MIGRATED} ({_safe_url(url)})")
    return engine


def _factory() -> sessionmaker[Session]:
    return make_sessionmaker(_existing_engine(get_settings().database_url))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            help="play the Ningxia demo into fundledger-demo.db, start the bank simulator, "
            "print a token and a console login per role (new at every start)"
        ),
    ] = False,
    demo_reset: Annotated[bool, typer.Option(help="play the demo data again")] = False,
    bank_port: Annotated[int, typer.Option(help="the demo bank simulator's port")] = 8900,
) -> None:
    """Apply migrations, then serve the API (embedded SQLite by default)."""
    import uvicorn

    from app import migrate
    from app.bank.gateway import HttpBankGateway
    from app.clock import SystemClock as Clock
    from app.main import create_app

    # Before anything else: a busy port would otherwise show up after the demo played.
    _refuse_busy_ports(host, {"--port": port, **({"--bank-port": bank_port} if demo else {})})
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    if demo:
        settings = _start_demo(settings, host, port, bank_port, reset=demo_reset)
    else:
        migrate.upgrade(settings.database_url)
    clock = Clock()
    gateway = HttpBankGateway(
        settings.bank_url,
        secret=settings.bank_secret,
        bank_id=settings.bank_id,
        clock=clock,
        connect_timeout_s=settings.bank_connect_timeout_s,
        read_timeout_s=settings.bank_read_timeout_s,
    )
    app = create_app(settings, clock=clock, bank_gateway=gateway)
    # uvicorn's logging goes through ours (JSON); each request is logged once, by
    # app/ops/metrics.RequestMiddleware, with its request id
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
    )


def port_in_use(host: str, port: int) -> bool:
    """Whether a server already listens on host:port (bound the way uvicorn binds)."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _refuse_busy_ports(host: str, ports: dict[str, int]) -> None:
    busy = [f"{option} {number}" for option, number in ports.items() if port_in_use(host, number)]
    if busy:
        raise CliError(
            f"port in use ({', '.join(busy)} on {host}): another `fundledger serve`? "
            "Stop it, or choose free ports: `make run PORT=8001 BANK_PORT=8901` "
            "(`fundledger serve --demo --port 8001 --bank-port 8901`)"
        )


def _start_demo(settings: Any, host: str, port: int, bank_port: int, *, reset: bool) -> Any:
    """Play the demo if needed, start its bank simulator, print fresh tokens for the tour and
    fresh console passwords (both shown once)."""
    import time

    from app import demo as demo_data
    from app import migrate

    kept = not reset and demo_data.DEMO_DB.exists()
    if not kept:
        typer.echo(f"playing the Ningxia demo into {demo_data.DEMO_DB}: {demo_data.SUMMARY}")
        started = time.monotonic()
        demo_data.build()
        typer.echo(f"demo played in {time.monotonic() - started:.0f} s")
    url = demo_data.url()
    migrate.upgrade(url)
    settings = settings.model_copy(
        update={
            "database_url": url,
            "bank_url": f"http://127.0.0.1:{bank_port}",
            "callback_url": f"http://{host}:{port}/api/v1/bank/receipts",
        }
    )
    demo_data.start_bank(settings.bank_secret, bank_port)
    issued = demo_data.tokens(url)
    people = demo_data.console_logins(url)
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only a name
    variables = " ".join(f"{name}={token}" for name, token in issued.items())
    typer.echo(
        f"demo database {demo_data.DEMO_DB} (for the CLI: "
        f"export FUNDLEDGER_DATABASE_URL=sqlite:///{demo_data.DEMO_DB}); "
        f"bank simulator on {settings.bank_url}\n"
        "The README's tour: paste this line into another shell (new tokens, shown once; "
        "earlier demo tokens are revoked):\n\n"
        f"export {variables} API=http://{local}:{port}/api/v1\n\n"
        f"{_console_logins_text(people, f'http://{local}:{port}/console/', kept=kept)}\n\n"
        f"API docs: http://{local}:{port}/docs"
    )
    return settings


def _console_logins_text(people: list[Any], address: str, *, kept: bool) -> str:
    """The console's address and a table of the demo's logins (role, name, password, and the
    Chinese role last: its characters are two columns wide)."""
    from app.console.statuses import ROLES

    why = (
        "the demo database is kept from an earlier start: its passwords are reset, the "
        "earlier ones no longer work"
        if kept
        else "new passwords, made for this start; each start makes new ones"
    )
    rows = [("role", "name", "password", "")] + [
        (
            person.role,
            person.name,
            person.password,
            " · ".join(filter(None, [ROLES[person.role], person.institution])),
        )
        for person in people
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  " + "".join(row[column].ljust(widths[column] + 2) for column in range(3)) + row[3]
        for row in rows
    ]
    return (
        f"The console (医保基金结算工作台): {address}\n"
        f"One login per role ({why}; shown once):\n\n" + "\n".join(line.rstrip() for line in lines)
    )


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from app import migrate

    migrate.upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@calendar_cli.command("set")
def calendar_set(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    working: Annotated[bool, typer.Option("--working/--off", help="working day or day off")],
    note: Annotated[str, typer.Option(help="why (e.g. the State Council notice)")] = "",
) -> None:
    """Override one date of the working-day calendar (an override always wins)."""
    from app.workdays import operations

    parsed = _parse_date(day)
    with transaction(_factory()) as session:
        operations.override(
            session,
            day=parsed,
            working=working,
            note=note,
            actor=_cli_principal(),
            now=SystemClock().now(),
        )
    typer.echo(f"{parsed}: {'working day' if working else 'day off'}")


@calendar_cli.command("unset")
def calendar_unset(day: Annotated[str, typer.Argument(help="YYYY-MM-DD")]) -> None:
    """Remove an override: the official schedule applies again."""
    from app.errors import NotFound
    from app.workdays import operations

    parsed = _parse_date(day)
    try:
        with transaction(_factory()) as session:
            operations.remove_override(
                session, day=parsed, actor=_cli_principal(), now=SystemClock().now()
            )
    except NotFound:
        typer.echo(f"{parsed}: override was not set")
        return
    typer.echo(f"{parsed}: override removed")


@calendar_cli.command("show")
def calendar_show(year: int) -> None:
    """List the days off on weekdays and the worked weekend days of YEAR."""
    from app.workdays import service

    with transaction(_factory()) as session:
        days = service.year_days(session, year)
        confirmed = service.is_confirmed(session, year)
    typer.echo(f"{year}: {'confirmed' if confirmed else 'UNCONFIRMED (package data)'}")
    for row in days:
        day = row["date"]
        assert isinstance(day, date)
        weekend = day.weekday() >= 5
        if row["working"] == weekend or row["override"]:
            kind = "working" if row["working"] else "off"
            source = " (override)" if row["override"] else ""
            typer.echo(f"{day} {day.strftime('%a')} {kind}{source}")


@calendar_cli.command("confirm")
def calendar_confirm(year: int) -> None:
    """Confirm that YEAR's official schedule is entered (SPEC.md §2)."""
    from app.workdays import operations

    with transaction(_factory()) as session:
        operations.confirm_year(session, year=year, actor=_cli_principal(), now=SystemClock().now())
    typer.echo(f"{year} confirmed")


def _cli_principal() -> Principal:
    return Principal(user_id=None, name=_actor(), role="admin")


@users_cli.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="hospital, operator, accountant, auditor or admin")],
    institution: Annotated[
        str | None, typer.Option(help="institution code (hospital role)")
    ] = None,
) -> None:
    """Create a user (a person or a system client)."""
    from app.auth import service

    with transaction(_factory()) as session:
        service.create_user(
            session,
            name=name,
            role=role,
            fixmedins_code=institution,
            actor=_cli_principal(),
            now=SystemClock().now(),
        )
    typer.echo(f"user {name} ({role}) created")


@users_cli.command("passwd")
def users_passwd(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Set the console password of user NAME (prompted twice, or one line on stdin)."""
    import sys

    from app import models  # noqa: F401 - every table known (app_user refers to institution)
    from app.auth import logins
    from app.errors import DomainError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with transaction(_factory()) as session:
            logins.set_password(
                session,
                name=name,
                password=password,
                actor=_cli_principal(),
                now=SystemClock().now(),
            )
    except DomainError as error:
        typer.echo(f"refused: {error.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"password of {name} set")


@tokens_cli.command("issue")
def tokens_issue(name: str) -> None:
    """Print a new bearer token for user NAME (shown once, stored only as a hash)."""
    from app.auth import service

    with transaction(_factory()) as session:
        _, token = service.issue_token(
            session, name=name, actor=_cli_principal(), now=SystemClock().now()
        )
    typer.echo(token)


@tokens_cli.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    from app.auth import service

    with transaction(_factory()) as session:
        service.revoke_token(
            session, token_id=token_id, actor=_cli_principal(), now=SystemClock().now()
        )
    typer.echo(f"token {token_id} revoked")


@ledger_cli.command("verify")
def ledger_verify() -> None:
    """Recompute every balance and hash chain; exit 1 on any difference."""
    from app.ledger import service

    with transaction(_factory()) as session:
        report = service.verify(session)
    typer.echo(f"entries checked: {report.entries_checked}")
    for code, stored, computed in report.balance_mismatches:
        typer.echo(f"BALANCE {code}: stored {stored} fen, postings say {computed} fen")
    for fund, entry_id, reason in report.chain_breaks:
        typer.echo(f"CHAIN {fund} entry {entry_id}: {reason}")
    if report.trial_balance_fen:
        typer.echo(f"TRIAL BALANCE off by {report.trial_balance_fen} fen")
    typer.echo(f"balance snapshots checked: {report.snapshots.snapshots_checked}")
    for fund, basis, snapshot_id, problem in report.snapshots.problems:
        typer.echo(f"SNAPSHOT {fund} {basis} #{snapshot_id}: {problem}")
    if report.snapshots.problems:
        typer.echo("snapshots are derived data: `fundledger ledger snapshot --rebuild` redoes them")
    if not report.ok:
        raise typer.Exit(1)
    typer.echo("ledger verified: balances, chains, trial balance and snapshots agree")


@ledger_cli.command("snapshot")
def ledger_snapshot(
    rebuild: Annotated[
        bool, typer.Option(help="delete every balance snapshot and cut the history again")
    ] = False,
) -> None:
    """Take the balance snapshots due (every FUNDLEDGER_LEDGER_SNAPSHOT_EVERY entries of a
    fund ledger); the scheduler does it every few minutes."""
    from app.ledger import snapshots

    settings = get_settings()
    take = snapshots.rebuild if rebuild else snapshots.take
    written = take(_factory(), every=settings.ledger_snapshot_every, now=SystemClock().now())
    for fund, count in sorted(written.items()):
        typer.echo(f"{fund}: {count} snapshot(s)")
    typer.echo(f"balance snapshots written: {sum(written.values())}")


@cli.command("check")
def three_flow_check(
    date_from: Annotated[
        str | None, typer.Option("--from", help="first date of the documents, YYYY-MM-DD")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="last date of the documents, YYYY-MM-DD")
    ] = None,
) -> None:
    """The three-flow check (三流核对): counts, every difference with its document; exit 1
    on any difference."""
    from app.threeflow import service

    first = _date_option("--from", date_from)
    last = _date_option("--to", date_to)
    if first and last and first > last:
        raise CliError("--from is after --to")
    with transaction(_factory()) as session:
        report = service.check(session, date_from=first, date_to=last)
    typer.echo(service.render(report))
    if not report.ok:
        raise typer.Exit(1)


def _date_option(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{name} {value!r} is not a date YYYY-MM-DD") from None


@scenario_cli.command("run")
def scenario_run(
    file: Annotated[str, typer.Argument(help="scenario JSON (SCENARIOS.md)")],
    db: Annotated[
        str | None, typer.Option(help="database URL (default: a temporary SQLite file)")
    ] = None,
    out: Annotated[
        str | None, typer.Option(help="write the result JSON here (default: stdout)")
    ] = None,
) -> None:
    """Play a scenario on a simulated clock and print its result JSON."""
    import json

    from app.scenarios import runner

    logging.basicConfig(level=logging.WARNING)
    result = runner.run_file(file, db)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        typer.echo(text)


def _job_context() -> JobContext:
    from app.bank.gateway import HttpBankGateway
    from app.clock import SystemClock

    settings = get_settings()
    engine = _existing_engine(settings.database_url)
    clock = SystemClock()
    gateway = HttpBankGateway(
        settings.bank_url,
        secret=settings.bank_secret,
        bank_id=settings.bank_id,
        clock=clock,
        connect_timeout_s=settings.bank_connect_timeout_s,
        read_timeout_s=settings.bank_read_timeout_s,
    )
    return JobContext(
        session_factory=make_sessionmaker(engine),
        engine=engine,
        clock=clock,
        settings=settings,
        gateway=gateway,
    )


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


@cli.command()
def scheduler(
    catch_up_only: Annotated[
        bool, typer.Option(help="run what is due or missed, then exit")
    ] = False,
) -> None:
    """The job process: cron schedule in Asia/Shanghai, one active run per job."""
    from jobs import scheduler as job_scheduler

    logs.configure(get_settings().log_level, get_settings().log_format)
    ctx = _job_context()
    if catch_up_only:
        for outcome in job_scheduler.catch_up(ctx):
            typer.echo(f"{outcome.job} {outcome.business_date}: {outcome.status}")
        return
    job_scheduler.run_forever(ctx)


@cli.command("bank-sim")
def bank_sim(
    port: Annotated[int, typer.Option(help="port")] = 8900,
    host: Annotated[str, typer.Option(help="interface")] = "127.0.0.1",
    failure_rate: Annotated[float, typer.Option(help="share of payments that fail")] = 0.0,
    faults: Annotated[
        str,
        typer.Option(
            help="a bank on a bad day, e.g. seed=7,timeout_rate=0.1,error_rate=0.1,"
            "duplicate_rate=0.3,reorder=true,delay_hours_max=2 (docs/rules.md)"
        ),
    ] = "",
) -> None:
    """The bank simulator as its own server (real clock; callbacks to each callback_url)."""
    from app.bank import simdata, simserver

    try:
        chosen = simdata.SimFaults.parse(faults)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--faults") from None
    simserver.serve_forever(
        host=host,
        port=port,
        secret=get_settings().bank_secret,
        failure_rate=failure_rate,
        faults=chosen,
    )


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD") from None


def describe(error: BaseException) -> str:
    """One line for an error that stopped a command (its traceback only with --debug)."""
    from app.errors import DomainError

    if isinstance(error, CliError):
        return str(error)
    if isinstance(error, DomainError):
        return f"refused: {error.detail}"
    if isinstance(error, DBAPIError):
        reason = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
        if "no such table" in reason or getattr(error.orig, "sqlstate", None) == "42P01":
            return NOT_MIGRATED
        url = _safe_url(get_settings().database_url)
        return f"database error at {url}: {reason or type(error.orig).__name__}"
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    return f"{name}: {text} (`fundledger --debug ...` shows the traceback)" if text else name


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code: 0, 1 for an error, 2 for a usage error.
    Every error is one line on stderr; a traceback only with `--debug`."""
    command = typer.main.get_command(cli)
    _OPTIONS["debug"] = False
    # The scenario runner drives the API through Starlette's TestClient on purpose.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    try:
        result = command.main(args=argv, prog_name="fundledger", standalone_mode=False)
    except typer.exceptions.TyperException as error:  # usage errors (click's own)
        message = error.format_message()
        context = getattr(error, "ctx", None)
        where = context.command_path if context is not None else "fundledger"
        if message:  # empty: the help was shown (a group called without a command)
            typer.echo(f"{where}: {message} (see `{where} --help`)", err=True)
        return int(getattr(error, "exit_code", 2))
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("fundledger: interrupted", err=True)
        return 1
    except Exception as error:
        if _OPTIONS["debug"]:
            traceback.print_exc()
        typer.echo(f"fundledger: {describe(error)}", err=True)
        return 1
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))
