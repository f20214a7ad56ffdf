"""Every payable document table that takes an offset is one the open receivable counts."""

from __future__ import annotations

from app import models  # noqa: F401 - every table known
from app.db import Base
from app.payables.models import PayableColumns
from app.payables.offsets import OFFSET_HOLDER_TABLES, OFFSET_HOLDERS


def _payable_tables_with_offsets() -> set[str]:
    found = set()
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if issubclass(model, PayableColumns) and "offset_fen" in mapper.columns:
            found.add(mapper.local_table.name)
    return found


def test_every_payable_table_with_an_offset_holds_it() -> None:
    assert set(OFFSET_HOLDER_TABLES) == _payable_tables_with_offsets()


def test_the_holders_read_existing_columns() -> None:
    tables = Base.metadata.tables
    for holder in OFFSET_HOLDERS:
        real = tables[holder.name]
        for column in holder.columns:
            assert column.name in real.columns
            # the real column's type, so PostgreSQL binds its arrays (`= ANY(...)`)
            assert column.type._type_affinity is real.columns[column.name].type._type_affinity
