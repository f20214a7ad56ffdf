"""Failpoints: named places between the steps of a money flow where a test stops the process
on purpose (docs/rules.md "Failpoints"). Off unless FUNDLEDGER_FAILPOINTS names some, e.g.

    FUNDLEDGER_FAILPOINTS="submission.after_commit=kill,bank.callback.after_store=error"

`kill` ends the process at once with SIGKILL (no cleanup, no rollback sent: the database
sees a dropped connection, as after a power cut); `error` raises FailpointError (the
step's transaction rolls back). Off, `hit()` is one test of an empty dict. Production
refuses to start with any failpoint set (app/config.py), and this module never
activates one there.
"""

from __future__ import annotations

import os
import signal

ENV = "FUNDLEDGER_FAILPOINTS"
ACTIONS = ("kill", "error")

# Every failpoint, in the order its flow meets them (a name not listed here is refused).
POINTS = (
    # the bulk upload of settlements (POST /settlements/bulk), one transaction
    "settlements.bulk.after_rows",  # the rows inserted, not committed
    "settlements.bulk.after_commit",  # committed, the answer not sent
    # the 14:30 submission job (daily lines, statements, clearings to the bank outbox)
    "submission.after_instructions",  # instruction rows inserted, nothing posted yet
    "submission.after_posting",  # payable -> in_transit posted, not committed
    "submission.before_commit",  # every batch marked SUBMITTED, not committed
    "submission.after_commit",  # committed, nothing sent to the bank yet
    "bank.send.after_request",  # the bank answered, its answer not recorded
    # a bank callback (POST /bank/receipts): stored, then applied, each its own transaction
    "bank.callback.after_store",  # the event stored and committed, not applied
    "bank.callback.after_apply",  # applied and posted, not committed
    "bank.callback.after_commit",  # committed, the answer not sent
    # the monthly computation job (one transaction per fund ledger)
    "monthly.compute.after_withdraw",  # unsent daily lines withdrawn, settlements taken
    "monthly.compute.after_statements",  # statement rows inserted, not committed
    "monthly.compute.after_commit",  # committed, the job's run not marked done
)


class FailpointError(RuntimeError):
    """Raised by a failpoint set to `error`."""


def parse(text: str) -> dict[str, str]:
    """`name=action,name=action` -> {name: action}; unknown names or actions are refused."""
    points: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, action = part.partition("=")
        name, action = name.strip(), (action.strip() or "kill")
        if name not in POINTS:
            raise ValueError(f"{ENV}: no failpoint {name!r} (known: {', '.join(POINTS)})")
        if action not in ACTIONS:
            raise ValueError(f"{ENV}: {name} action must be one of {', '.join(ACTIONS)}")
        points[name] = action
    return points


def _from_environment() -> dict[str, str]:
    """The failpoints the environment sets; none in production or when the text is wrong
    (the settings refuse both at start-up with a clear message, app/config.py)."""
    if os.environ.get("FUNDLEDGER_ENVIRONMENT", "").strip().lower() == "production":
        return {}
    try:
        return parse(os.environ.get(ENV, ""))
    except ValueError:
        return {}


_ACTIVE: dict[str, str] = _from_environment()


def arm(text: str) -> None:
    """Set the failpoints anew (a test's standby process, told them only when it takes over);
    refused in production like the environment variable."""
    global _ACTIVE
    points = parse(text)
    if points and os.environ.get("FUNDLEDGER_ENVIRONMENT", "").strip().lower() == "production":
        raise RuntimeError(f"{ENV} is refused in production")
    _ACTIVE = points


def hit(name: str) -> None:
    """Pass a failpoint: nothing unless the environment set it."""
    if not _ACTIVE:
        return
    action = _ACTIVE.get(name)
    if action == "kill":
        os.write(2, f"failpoint {name}: kill\n".encode())  # the one trace it leaves
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "error":
        raise FailpointError(f"failpoint {name}")


def active() -> dict[str, str]:
    return dict(_ACTIVE)
