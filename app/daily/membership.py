"""Which daily batch holds a settlement (SPEC §3.3), as a join condition: the batch of the
settlement's fund ledger whose range [first_batch_date (None: from the beginning),
business_date] holds its batch date. A fund ledger's first batch, or one after days without
batches, holds earlier dates. Whether a settlement revoked before batching is a member is the
caller's to add (`service.members` does). The settlement statuses, the three-flow check, the
reports and the hospital's pages join through it; the daily service applies the same range to
one loaded batch with its values bound (`service._in_range`, for the batch's big scan)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_

from app.daily.models import DailyBatch
from app.settlements.models import Settlement


def holds(batch: Any = DailyBatch) -> Any:
    """Join condition between `batch` (DailyBatch or an alias of it) and Settlement."""
    return and_(
        batch.region_code == Settlement.region_code,
        batch.insutype == Settlement.insutype,
        batch.business_date >= Settlement.batch_date,
        or_(batch.first_batch_date.is_(None), batch.first_batch_date <= Settlement.batch_date),
    )
