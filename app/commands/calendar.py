"""`fundledger calendar ...`: the working-day calendar (moved out of app/cli.py as it was)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from app.clock import SystemClock
from app.commands.common import _cli_principal, _factory, _parse_date
from app.db import transaction

calendar_cli = typer.Typer(no_args_is_help=True, help="working-day calendar")


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
