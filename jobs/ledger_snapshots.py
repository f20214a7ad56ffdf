"""Sweeper: the balance snapshots due (every FUNDLEDGER_LEDGER_SNAPSHOT_EVERY entries of a
fund ledger), so an as-of balance reads a snapshot and a bounded tail (app/ledger/snapshots.py)."""

from __future__ import annotations

from typing import Any

from app.jobcontext import JobContext
from app.ledger import snapshots


def run(ctx: JobContext) -> dict[str, Any]:
    written = snapshots.take(
        ctx.session_factory, every=ctx.settings.ledger_snapshot_every, now=ctx.clock.now()
    )
    return {"snapshots": written}
