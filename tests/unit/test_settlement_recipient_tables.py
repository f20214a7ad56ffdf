"""app/settlements/recipients.py names the register's tables in SQL (settlements sits below
app/assistance): the names and columns it uses must be those of app/assistance/models.py."""

from __future__ import annotations

from app.assistance.models import Recipient, RecipientCategory
from app.settlements.recipients import RECIPIENT, RECIPIENT_CATEGORY


def test_named_tables_match_the_models() -> None:
    for named, model in ((RECIPIENT, Recipient), (RECIPIENT_CATEGORY, RecipientCategory)):
        real = model.__table__
        assert named.name == real.name
        missing = {c.name for c in named.columns} - {c.name for c in real.columns}
        assert not missing, f"{named.name} has no column {missing}"
