"""The `fundledger` command line (API.md "Command line and configuration"). The command groups
are in app/commands/ (one module each); this module assembles them, with the top-level
commands."""

from __future__ import annotations

import inspect
import logging
import socket
import sys
import traceback
import warnings
from datetime import date
from typing import Annotated, Any

import typer
from sqlalchemy.exc import DBAPIError

from app.commands.assistance import assistance_cli
from app.commands.calendar import calendar_cli
from app.commands.common import _OPTIONS, NOT_MIGRATED, CliError, _factory, _job_context, _safe_url
from app.commands.jobs import jobs_cli
from app.commands.ledger import ledger_cli
from app.commands.scenario import scenario_cli
from app.commands.users import tokens_cli, users_cli
from app.config import get_settings
from app.db import transaction
from app.ops import logs

cli = typer.Typer(no_args_is_help=True, add_completion=False, help="fundledger service")
db_cli = typer.Typer(no_args_is_help=True, help="database schema")
cli.add_typer(db_cli, name="db")
cli.add_typer(calendar_cli, name="calendar")
cli.add_typer(users_cli, name="users")
cli.add_typer(tokens_cli, name="tokens")
cli.add_typer(ledger_cli, name="ledger")
cli.add_typer(scenario_cli, name="scenario")
cli.add_typer(jobs_cli, name="jobs")
cli.add_typer(assistance_cli, name="assistance")


@cli.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="print the traceback of an error as well")
    ] = False,
) -> None:
    """fundledger: the medical insurance fund service and its tools."""
    _OPTIONS["debug"] = debug


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="worker processes sharing the port (each with its own database pool: "
            "FUNDLEDGER_DB_POOL_SIZE + FUNDLEDGER_DB_MAX_OVERFLOW connections)",
        ),
    ] = 1,
    limit_concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="per worker: answer 503 at once beyond this many open connections and "
            "requests in progress (uvicorn's admission control; default: none)",
        ),
    ] = None,
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
    from app.main import create_served_app

    if demo and workers > 1:
        raise CliError("--demo serves one process: leave out --workers")
    # Before anything else: a busy port would otherwise show up after the demo played.
    _refuse_busy_ports(host, {"--port": port, **({"--bank-port": bank_port} if demo else {})})
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    if demo:
        settings = _start_demo(settings, host, port, bank_port, reset=demo_reset)
    else:
        migrate.upgrade(settings.database_url)
    # uvicorn's logging goes through ours (JSON); each request is logged once, by
    # app/ops/metrics.RequestMiddleware, with its request id
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "limit_concurrency": limit_concurrency,
        "log_level": settings.log_level.lower(),
        "log_config": None,
        "access_log": False,
    }
    if workers == 1:
        uvicorn.run(create_served_app(settings), **options)
        return
    from uvicorn.supervisors import Multiprocess

    # Each worker builds the app from the same settings (the environment, .env). The socket
    # is ours: uvicorn's own (`--workers`) is made without IPPROTO_TCP, so asyncio never sets
    # TCP_NODELAY on its connections and every keep-alive answer after the first waits ~40 ms
    # for the client's delayed ACK (Kludex/uvicorn#3149; bench/README.md "Load").
    config = uvicorn.Config("app.main:create_served_app", factory=True, workers=workers, **options)
    sock = listening_socket(host, port)
    logging.getLogger("fundledger.serve").info(
        "serving http://%s:%d with %d workers", host, port, workers
    )
    # older uvicorn versions take the worker's target (a Server's run) as well
    older = "target" in inspect.signature(Multiprocess).parameters
    extra = {"target": uvicorn.Server(config).run} if older else {}
    try:
        Multiprocess(config, sockets=[sock], **extra).run()
    finally:
        sock.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port for worker processes to share, with TCP_NODELAY (the
    connections accepted from it inherit it: answers leave at once, no Nagle delay)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def port_in_use(host: str, port: int) -> bool:
    """Whether a server already listens on host:port (bound the way uvicorn binds)."""
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
