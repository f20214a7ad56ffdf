"""Workflow steps at the same moment with real commits: accountants approving one batch,
revocations and audit results of one settlement. Each ends as if the requests had come one
after the other, and none fails with anything but a domain error."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.principal import Principal
from app.daily import service as daily
from app.daily.models import DailyApproval
from app.db import make_sessionmaker, transaction
from app.errors import DomainError
from app.monthly import audits
from app.monthly.models import AuditItem
from app.settlements import service as settlements
from app.settlements.models import Revocation
from tests.support import builders
from tests.support.daily import at, generate, settle
from tests.support.databases import engine_for_threads, fresh_database

THREADS = 6
FRI, MON = date(2026, 3, 6), date(2026, 3, 9)


def _race(factory: sessionmaker[Session], steps: list[Callable[[Session], object]]) -> list[str]:
    """Run each step in its own thread and transaction at once; the outcome of each:
    "ok", or the class of the domain error it was refused with."""
    barrier = threading.Barrier(len(steps))
    outcomes: list[str] = ["?"] * len(steps)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            with transaction(factory) as session:
                steps[index](session)
            outcomes[index] = "ok"
        except DomainError as error:
            outcomes[index] = type(error).__name__
        except BaseException as error:  # an unexpected error fails the test below
            outcomes[index] = f"unexpected: {error!r}"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(steps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [o for o in outcomes if o.startswith(("unexpected", "?"))], outcomes
    return outcomes


def test_concurrent_approvals_revocations_and_audits() -> None:
    with fresh_database() as url:
        engine = engine_for_threads(url, THREADS)
        factory = make_sessionmaker(engine)
        with transaction(factory) as session:
            builders.institution(session, "H001")
            settle(session, "H001", "S1", 1_000_000, FRI)
            settle(session, "H001", "S2", 1_000_000, FRI)
            settle(session, "H001", "S3", 1_000_000, FRI)
            batch_id = generate(session, FRI).id

        # six accountants approve the same batch (one approval needed): one approval counts
        def approve(name: str) -> Callable[[Session], object]:
            return lambda s: daily.approve(
                s, batch_id, actor=Principal(None, name, "accountant"), now=at(MON, 9)
            )

        outcomes = _race(factory, [approve(f"acc{i}") for i in range(THREADS)])
        assert outcomes.count("ok") >= 1
        with transaction(factory) as session:
            assert session.scalar(select(func.count()).select_from(DailyApproval)) == 1
            assert daily.get_batch(session, batch_id).status == "APPROVED"

        hospital = Principal(None, "user-H001", "hospital", "H001")
        operator = Principal(None, "op", "operator")

        def revoke(s: Session) -> object:
            return settlements.revoke(s, "H001", "S1", "重复结算", actor=hospital, now=at(MON, 10))

        def audit(setl_id: str, rule: str, fen: int) -> Callable[[Session], object]:
            return lambda s: audits.record(
                s,
                code="H001",
                setl_id=setl_id,
                rule_code=rule,
                amount_fen=fen,
                reason="超标准收费",
                actor=operator,
                now=at(MON, 10),
            )

        # revocations and audit results of one settlement: never both
        steps = [revoke, revoke, revoke, audit("S1", "R1", 1000), audit("S1", "R2", 1000)]
        _race(factory, steps)
        with transaction(factory) as session:
            revocations = session.scalar(select(func.count()).select_from(Revocation))
            items = session.scalar(select(func.count()).select_from(AuditItem))
            assert (revocations, items) in ((1, 0), (0, 1), (0, 2)), (revocations, items)

        # six deductions of 40 % each on S2: never more than its fund amount
        outcomes = _race(factory, [audit("S2", f"R{i}", 400_000) for i in range(THREADS)])
        assert outcomes.count("ok") == 2, outcomes
        engine.dispose()
