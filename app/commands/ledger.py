"""`fundledger ledger ...`: the double-entry ledger (moved out of app/cli.py as it was)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.clock import SystemClock
from app.commands.common import _factory
from app.config import get_settings
from app.db import transaction

ledger_cli = typer.Typer(no_args_is_help=True, help="the double-entry ledger")


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
