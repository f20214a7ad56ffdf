"""23:59 every day: unappealed audit results whose window closes today become final."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.db import transaction
from app.jobcontext import JobContext
from app.monthly import audits


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    with transaction(ctx.session_factory) as session:
        count = audits.finalize_unappealed(session, today=business_date, now=ctx.clock.now())
    return {"finalized": count}
