"""`fundledger scenario ...`: deterministic scenarios (moved out of app/cli.py as it was)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

scenario_cli = typer.Typer(no_args_is_help=True, help="deterministic scenarios")


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
