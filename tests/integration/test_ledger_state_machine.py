"""Random balanced drafts, replays, conflicting replays and reversals; after every step the
ledger agrees with a plain model of it (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.orm import Session

from app.ledger import service as ledger
from app.ledger.rules import Draft, Line, mirror
from tests.support.ledger import NOW, acct

ACCOUNTS_310 = [
    acct("bank"),
    acct("in_transit"),
    acct("appropriation"),
    acct("payable", "H1"),
    acct("expense", "H1"),
    acct("payable", "H2"),
    acct("receivable", "H2"),
]
ACCOUNTS_390 = [acct("bank", insutype="390"), acct("payable", "H1", insutype="390")]


@st.composite
def drafts(draw: st.DrawFn) -> Draft:
    insutype = draw(st.sampled_from(["310", "310", "390"]))
    accounts = ACCOUNTS_310 if insutype == "310" else ACCOUNTS_390
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(accounts), st.sampled_from(accounts), st.integers(1, 10**9)),
            min_size=1,
            max_size=4,
        )
    )
    lines: list[Line] = []
    for debit, credit, amount in pairs:
        lines += [Line(debit, "D", amount), Line(credit, "C", amount)]
    key = f"k{draw(st.integers(0, 12))}"  # a small key space makes replays and conflicts
    return Draft("test", key, "640100", insutype, tuple(lines), NOW, "ref")


class LedgerMachine(RuleBasedStateMachine):
    posted = Bundle("posted")

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.savepoint = session.begin_nested()
        self.model: dict[str, int] = defaultdict(int)  # debit minus credit
        self.by_key: dict[str, Draft] = {}
        self.reversed: set[int] = set()

    def teardown(self) -> None:
        self.savepoint.rollback()

    @initialize()
    def start(self) -> None:
        assert ledger.trial_balance(self.session).balanced

    def _apply(self, lines: tuple[Line, ...]) -> None:
        for line in lines:
            self.model[line.account] += line.amount_fen if line.side == "D" else -line.amount_fen

    @rule(target=posted, draft=drafts())
    def post(self, draft: Draft) -> int:
        known = self.by_key.get(draft.key)
        if known is not None and (known.lines, known.insutype) != (draft.lines, draft.insutype):
            before = dict(self.model)
            try:
                ledger.post(self.session, draft, now=NOW)
            except ledger.LedgerConflict:
                assert dict(self.model) == before
                return -1
            raise AssertionError("a conflicting replay was accepted")
        result = ledger.post(self.session, draft, now=NOW)
        assert result.replayed == (known is not None)
        if known is None:
            self.by_key[draft.key] = draft
            self._apply(draft.lines)
        return result.entry_id

    @rule(entry_id=posted)
    def reverse(self, entry_id: int) -> None:
        if entry_id < 0:
            return
        if entry_id in self.reversed:
            try:
                ledger.reverse(self.session, entry_id, "again", now=NOW)
            except ledger.LedgerConflict:
                return
            raise AssertionError("a second reversal was accepted")
        lines = tuple(ledger.entry_lines(self.session, [entry_id])[entry_id])
        ledger.reverse(self.session, entry_id, "test", now=NOW)
        self.reversed.add(entry_id)
        self._apply(mirror(lines))

    @invariant()
    def agrees_with_model(self) -> None:
        trial = ledger.trial_balance(self.session)
        assert trial.balanced
        stored = {row.code: row.debit_minus_credit for row in trial.accounts}
        for code, expected in self.model.items():
            assert stored.get(code, 0) == expected, code

    @invariant()
    def verify_is_clean(self) -> None:
        report = ledger.verify(self.session)
        assert report.ok, report


def test_ledger_state_machine(session: Session) -> None:
    run_state_machine_as_test(
        lambda: LedgerMachine(session),
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
