"""Ledger helpers for tests."""

from __future__ import annotations

from datetime import UTC, datetime

from app.ledger.rules import Draft, DraftLines, account_code

NOW = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)


def acct(
    name: str, institution: str | None = None, region: str = "640100", insutype: str = "310"
) -> str:
    return account_code(name, region, insutype, institution)


def transfer_draft(
    key: str,
    debit: str,
    credit: str,
    amount_fen: int,
    *,
    when: datetime = NOW,
    region: str = "640100",
    insutype: str = "310",
    kind: str = "test",
) -> Draft:
    institutions = {code.split(":")[3] for code in (debit, credit) if code.count(":") == 3}
    return Draft(
        kind=kind,
        key=key,
        region_code=region,
        insutype=insutype,
        fixmedins_code=institutions.pop() if len(institutions) == 1 else None,
        lines=DraftLines().transfer(debit, credit, amount_fen).result(),
        effective_at=when,
        business_ref=f"test:{key}",
    )
