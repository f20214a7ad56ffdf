"""`fundledger assistance ...`: the medical-assistance fund (SPEC-ASSISTANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.clock import SystemClock
from app.commands.common import CliError, _cli_principal, _factory
from app.db import transaction

assistance_cli = typer.Typer(no_args_is_help=True, help="medical assistance (医疗救助)")

SOURCES = ("civil_affairs", "poverty", "disabled_persons")


def _items(path: Path) -> list[Any]:
    """The list's lines: a JSON array, or an object with `items`."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CliError(f"{path}: not a JSON file ({error})") from None
    items = loaded.get("items") if isinstance(loaded, dict) else loaded
    if not isinstance(items, list):
        raise CliError(f"{path}: expected a JSON array of lines or an object with `items`")
    return items


@assistance_cli.command("import-recipients")
def import_recipients(
    file: Annotated[Path, typer.Argument(help="the office's monthly list (JSON)")],
    source: Annotated[str, typer.Option(help="civil_affairs | poverty | disabled_persons")],
    month: Annotated[str, typer.Option(help="YYYY-MM, the month of the list")],
) -> None:
    """Import an office's monthly list of recipients; idempotent per (source, month): the
    same content again is a replay, other content is refused."""
    from pydantic import ValidationError

    from app.assistance import recipients
    from app.assistance.schemas import ImportIn

    if source not in SOURCES:
        raise typer.BadParameter(f"one of {', '.join(SOURCES)}", param_hint="--source")
    try:
        data = ImportIn.model_validate({"source": source, "month": month, "items": _items(file)})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CliError(f"invalid list: {where}: {first['msg']}") from None
    with transaction(_factory()) as session:
        row, created = recipients.import_list(
            session, data, actor=_cli_principal(), now=SystemClock().now()
        )
        counts = {flag: 0 for flag in ("new", "updated", "exited")}
        for line in row.result:
            counts[line["flag"]] += 1
    state = "imported" if created else "already imported (replay)"
    typer.echo(
        f"{source} {month}: {state}: {len(data.items)} line(s), "
        f"{counts['new']} new, {counts['updated']} updated, {counts['exited']} exited"
    )


@assistance_cli.command("import-deductions")
def import_deductions(
    file: Annotated[Path, typer.Argument(help="deduction data (扣减数据), XLSX or CSV")],
) -> None:
    """Import a file of deduction data, all or nothing; each row is idempotent on its
    reference (the same content again is a replay, other content is refused)."""
    from app.assistance import deduction_import
    from app.errors import DomainError

    try:
        content = file.read_bytes()
    except OSError as error:
        raise CliError(f"{file}: cannot read ({error.strerror})") from None
    try:
        with transaction(_factory()) as session:
            results = deduction_import.import_file(
                session, file.name, content, actor=_cli_principal(), now=SystemClock().now()
            )
    except DomainError as error:
        shown = [f"{e.field}: {e.message} ({e.rule})" for e in error.errors[:20]]
        more = len(error.errors) - len(shown)
        tail = [f"and {more} more"] if more > 0 else []
        raise CliError("; ".join([f"refused: {error.detail}", *shown, *tail])) from None
    recorded = sum(1 for _, created in results if created)
    typer.echo(
        f"{file.name}: {len(results)} row(s), {recorded} recorded, "
        f"{len(results) - recorded} already recorded (replay)"
    )
