"""One entry, one round trip: PostgreSQL's server-side post (migration 0018, issue 20.1).

`posting.post` sends a single entry here on PostgreSQL. The draft is checked and hashed in
Python (the content digest, the entry's part of the chain hash, the accounts' fields); the
function `ledger_post_one` then takes the fund's chain-head lock, looks the idempotency key
up, creates missing accounts, inserts the postings and the entry (the database's balance
trigger checks it), updates the maintained balances and the chain head — in one statement.
The chain-head lock is held to the end of the caller's transaction, as on the Python path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.ledger import rules
from app.ledger.rules import Draft

CALL = (
    "SELECT posted_id, outcome FROM ledger_post_one(%(fund)s, %(kind)s, %(key)s, %(digest)s,"
    " %(ref)s, %(region)s, %(insutype)s, %(institution)s, %(period)s, %(effective)s,"
    " %(recorded)s, %(memo)s, %(tail)s, %(codes)s::text[], %(names)s::text[],"
    " %(institutions)s::text[], %(normal_sides)s::text[], %(sides)s::text[],"
    " %(amounts)s::bigint[])"
)


def call_parameters(draft: Draft, now: datetime) -> dict[str, object]:
    """The function's arguments for a draft that reverses nothing (pure)."""
    assert draft.reverses_entry_id is None, "reversals take the Python path"
    rules.check_fund(draft.lines, draft.region_code, draft.insutype)
    digest = rules.request_hash(draft, None)
    names: list[str] = []
    institutions: list[str | None] = []
    for line in draft.lines:
        name, _, _, institution = rules.parse_account_code(line.account)
        names.append(name)
        institutions.append(institution)
    return {
        "fund": f"{draft.region_code}:{draft.insutype}",
        "kind": draft.kind,
        "key": draft.key,
        "digest": digest,
        "ref": draft.business_ref,
        "region": draft.region_code,
        "insutype": draft.insutype,
        "institution": draft.fixmedins_code,
        "period": draft.period,
        "effective": draft.effective_at,
        "recorded": now,
        "memo": draft.memo[:300],
        "tail": rules.chain_tail(draft.key, digest, draft.effective_at, now),
        "codes": [line.account for line in draft.lines],
        "names": names,
        "institutions": institutions,
        "normal_sides": [rules.ACCOUNT_TYPES[name][0] for name in names],
        "sides": [line.side for line in draft.lines],
        "amounts": [line.amount_fen for line in draft.lines],
    }


def post_one(session: Session, draft: Draft, now: datetime) -> tuple[int, str]:
    """Post one entry by one call of `ledger_post_one`: its id and `posted`, `replayed` (the
    key stood for the same content; nothing written) or `conflict` (other content)."""
    parameters = call_parameters(draft, now)
    session.flush()  # the caller's pending rows go first, as an autoflush would send them
    entry_id, outcome = session.connection().exec_driver_sql(CALL, parameters).one()
    return int(entry_id), str(outcome)
