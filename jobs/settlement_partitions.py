"""00:05 every day: the settlement table's monthly partitions around the date, and a
partition for any period that arrived without one (PostgreSQL; app/settlements/partitions.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.db import transaction
from app.jobcontext import JobContext
from app.settlements import partitions


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    with transaction(ctx.session_factory) as session:
        created = partitions.ensure(session, partitions.months_around(business_date))
    return {"created": created}
