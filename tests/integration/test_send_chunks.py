"""The send loop works in chunks (app/bank/sending.py): one transaction marks a chunk's
attempts before its calls, one records their outcomes; each instruction ends as it did when
they were sent one by one (API.md "Bank protocol")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.models import Alert
from app.auth.principal import Principal
from app.bank import sending
from app.bank import service as bank
from app.bank.models import PaymentInstruction
from app.bank.protocol import SendOutcome, SendResult, StatusResult
from app.bank.rules import InstructionStatus
from app.clock import SimulatedClock
from app.config import Settings
from app.daily import service as daily
from app.institutions import service as institutions
from app.jobcontext import JobContext
from tests.support import builders
from tests.support.daily import at, generate, settle
from tests.support.sqlcount import sql_statements

FRI, MON = date(2026, 3, 6), date(2026, 3, 9)
ACCEPTED = SendResult(SendOutcome.ACCEPTED, status="ACCEPTED")
NOT_SENT = SendResult(SendOutcome.NOT_SENT, detail="connection failed before sending: refused")


class _ScriptedBank:
    """A `BankGateway` answering each instruction's sends from a script (ACCEPTED once the
    script is used up) and its status queries from another; it notes every call."""

    def __init__(
        self,
        sends: dict[str, list[SendResult]] | None = None,
        queries: dict[str, StatusResult] | None = None,
        clock: SimulatedClock | None = None,
        call_s: float = 0.0,
        during_call: Callable[[], None] | None = None,
    ) -> None:
        self.sends = sends or {}
        self.queries = queries or {}
        self.clock = clock
        self.call_s = call_s
        self.during_call = during_call  # looks at the database while a call is under way
        self.calls: list[tuple[str, str, datetime | None]] = []

    def send(self, instruction: dict[str, Any]) -> SendResult:
        instruction_id = instruction["instruction_id"]
        self.calls.append(("send", instruction_id, self.clock.now() if self.clock else None))
        if self.clock is not None:
            self.clock.advance(timedelta(seconds=self.call_s))  # a bank near its timeouts
        if self.during_call is not None:
            self.during_call()
        script = self.sends.get(instruction_id, [])
        return script.pop(0) if script else ACCEPTED

    def query(self, instruction_id: str) -> StatusResult:
        self.calls.append(("query", instruction_id, None))
        return self.queries[instruction_id]

    def statement(self, account: str, statement_date: str) -> Any:
        raise AssertionError("no statement here")

    def called(self, kind: str) -> list[str]:
        return [instruction_id for k, instruction_id, _ in self.calls if k == kind]


def _ctx(
    session_factory: sessionmaker[Session], clock: SimulatedClock, gateway: _ScriptedBank
) -> JobContext:
    return JobContext(
        session_factory=session_factory,
        engine=None,  # type: ignore[arg-type]
        clock=clock,
        settings=Settings(environment="test", database_url="sqlite://"),
        gateway=gateway,
    )


def _queue(session: Session, clock: SimulatedClock, count: int) -> list[str]:
    """`count` daily lines of Friday approved and handed to the outbox on Monday 14:30."""
    for n in range(1, count + 1):
        builders.institution(session, f"H{n:03}")
        settle(session, f"H{n:03}", f"S{n}", 100_000 * n, FRI)
    batch = generate(session, FRI)
    daily.approve(session, batch.id, actor=Principal(None, "acc", "accountant"), now=at(MON, 9))
    clock.set(at(MON, 14, 30))
    fund = institutions.get_fund_ledger(session, "640100", "310")
    ids = daily.submit_due(session, fund, today=MON, now=clock.now())
    session.commit()
    assert len(ids) == count
    return sorted(ids)


def _instructions(session: Session) -> dict[str, PaymentInstruction]:
    session.expire_all()
    return {i.instruction_id: i for i in session.scalars(select(PaymentInstruction))}


def test_statements_do_not_grow_with_the_instructions_of_a_chunk(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    ids = _queue(session, clock, 15)
    bank_ = _ScriptedBank()
    ctx = _ctx(session_factory, clock, bank_)

    def statements(chunk: list[str]) -> int:
        with sql_statements(session) as seen:
            assert sending.send_queued(ctx, chunk) == dict.fromkeys(chunk, "ACCEPTED")
        return len(seen)

    assert statements(ids[:3]) == statements(ids[3:])  # 3 and 12 instructions
    assert bank_.called("send") == ids
    assert all(i.attempts == 1 for i in _instructions(session).values())


def test_a_chunk_of_mixed_outcomes_ends_as_one_by_one(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    retried, refused, timed_out, settled, never_connects = _queue(session, clock, 5)
    with session_factory() as other, other.begin():  # a callback got there first
        bank.transition(bank.locked(other, settled), InstructionStatus.ACCEPTED)
    bank_ = _ScriptedBank(
        sends={
            retried: [NOT_SENT],
            refused: [SendResult(SendOutcome.REFUSED, detail="bank answered 400: bad payee")],
            timed_out: [SendResult(SendOutcome.UNKNOWN, detail="no readable answer")],
            never_connects: [NOT_SENT] * 3,
        },
        queries={timed_out: StatusResult(found=True, status="ACCEPTED", body={})},
    )
    ctx = _ctx(session_factory, clock, bank_)
    order = [retried, refused, timed_out, settled, never_connects]

    assert sending.send_queued(ctx, order) == {
        retried: "ACCEPTED",
        refused: "QUEUED",
        timed_out: "ACCEPTED",  # UNKNOWN, then the status query
        settled: "ACCEPTED",
        never_connects: "QUEUED",
    }
    # the same id every time, never a new instruction; the one no longer QUEUED never leaves
    assert sorted(bank_.called("send")) == sorted(
        [retried, retried, refused, timed_out, never_connects, never_connects, never_connects]
    )
    assert bank_.called("query") == [timed_out]
    rows = _instructions(session)
    assert {i: (r.attempts, r.last_error is not None) for i, r in rows.items()} == {
        retried: (2, True),
        refused: (1, True),
        timed_out: (1, False),
        settled: (0, False),
        never_connects: (3, True),
    }
    assert rows[never_connects].sent_at == clock.now() and rows[settled].sent_at is None
    alerts = [(a.kind, a.subject) for a in session.scalars(select(Alert))]
    assert alerts == [("bank_refused", refused)]


def test_a_slow_chunk_keeps_its_marks_fresh(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    """Each call of a slow bank takes 40 s, twelve calls 8 minutes: at no moment of the chunk
    does one of its instructions — not yet called, or called and not yet recorded — look
    like one a stopped process left (`_sendable`: QUEUED, marked longer than UNSENT_GRACE_S
    ago), so the re-query sweep never sends it again meanwhile."""
    ids = _queue(session, clock, 12)
    looked_stale: set[str] = set()

    def sweep_view() -> None:
        horizon = clock.now() - timedelta(seconds=sending.UNSENT_GRACE_S)
        with session_factory() as look:
            looked_stale.update(
                look.scalars(
                    select(PaymentInstruction.instruction_id).where(
                        PaymentInstruction.instruction_id.in_(ids),
                        PaymentInstruction.status == "QUEUED",
                        PaymentInstruction.sent_at <= horizon,
                    )
                )
            )

    bank_ = _ScriptedBank(clock=clock, call_s=40, during_call=sweep_view)
    assert sending.send_queued(_ctx(session_factory, clock, bank_), ids) == dict.fromkeys(
        ids, "ACCEPTED"
    )
    assert clock.now() - at(MON, 14, 30) > timedelta(seconds=sending.UNSENT_GRACE_S)
    assert looked_stale == set()
    rows = _instructions(session)
    assert bank_.called("send") == ids  # each sent once, in order
    assert all(rows[instruction_id].attempts == 1 for instruction_id in ids)


def test_nothing_is_sent_at_or_after_the_cutoff(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SimulatedClock,
    monkeypatch: Any,
) -> None:
    """SPEC §3.6: nothing is sent after 15:00. A bank taking 200 s a call, from 14:30, in
    chunks of five: the cut-off comes in the second chunk (its last two are not called) and
    before the third (never marked); a connection retry before it still goes. What is left
    stays QUEUED as it was (no attempt counted, no `sent_at`), raises one alert that counts
    them, and leaves with the sweep of the next working day, the same ids."""
    monkeypatch.setattr(sending, "SEND_CHUNK_MAX", 5)
    ids = _queue(session, clock, 12)
    still = StatusResult(found=True, status="ACCEPTED", body={})  # no result yet
    bank_ = _ScriptedBank(
        sends={ids[0]: [NOT_SENT]}, queries=dict.fromkeys(ids, still), clock=clock, call_s=200
    )
    ctx = _ctx(session_factory, clock, bank_)

    outcomes = sending.send_queued(ctx, ids)

    assert outcomes == {**dict.fromkeys(ids[:8], "ACCEPTED"), **dict.fromkeys(ids[8:], "QUEUED")}
    calls = [(i, moment) for kind, i, moment in bank_.calls if kind == "send"]
    assert [i for i, _ in calls] == [*ids[:5], ids[0], *ids[5:8]]
    assert all(moment is not None and moment < at(MON, 15) for _, moment in calls)
    rows = _instructions(session)
    assert [rows[i].attempts for i in ids] == [2, *[1] * 7, 0, 0, 0, 0]
    assert all(rows[i].sent_at is None for i in ids[8:])  # the cut marks are undone too
    alerts = [(a.kind, a.subject, a.detail[:40]) for a in session.scalars(select(Alert))]
    assert alerts == [
        ("submission_after_cutoff", f"640100:310:{MON}", "4 payment instruction(s) not sent: the f")
    ]

    clock.set(at(MON, 16))  # the sweep after the cut-off asks about those sent, sends nothing
    assert sending.requery_due(ctx) == dict.fromkeys(ids[:8], "ACCEPTED")
    assert len(bank_.called("send")) == 9
    clock.set(at(MON + timedelta(days=1), 15, 30))  # missed again: one alert for the four
    sending.requery_due(ctx)
    unsent = [a for a in session.scalars(select(Alert)) if a.kind == "bank_unsent"]
    assert [a.subject for a in unsent] == [f"640100:310:{MON}"]
    assert unsent[0].detail.startswith(f"4 payment instruction(s) saved for {MON} not sent")
    assert len(bank_.called("send")) == 9
    clock.set(at(MON + timedelta(days=2), 9))  # the next working day's sweep sends the rest
    assert sending.requery_due(ctx) == {
        **dict.fromkeys(ids[:8], "ACCEPTED"),
        **dict.fromkeys(ids[8:], "ACCEPTED"),
    }
    assert sorted(bank_.called("send")) == sorted([*ids, ids[0]])  # once, the retried twice
