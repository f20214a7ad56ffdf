"""One form for every status field: a `StrEnum` and a transition table checked in one place.

Each domain declares its statuses as a `StrEnum` (the values are what the database and the API
carry, so a member compares equal to its string) and a `Machine` with the legal moves, in its
pure `rules.py`. Services call `machine.check(current, new)` before writing a status; routers
and schemas take their allowed values from `values(Status)`.

    class BatchStatus(StrEnum):
        OPEN = "OPEN"
        SENT = "SENT"

    BATCH = Machine("a daily batch", {BatchStatus.OPEN: {BatchStatus.SENT},
                                      BatchStatus.SENT: set()})
    BATCH.check("OPEN", "SENT")  # fine
    BATCH.check("SENT", "OPEN")  # IllegalTransition: a daily batch cannot go from SENT to OPEN
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)


class IllegalTransition(ValueError):
    """A status change the transition table does not allow (a programming or ordering error)."""


def values(status: type[StrEnum]) -> tuple[str, ...]:
    """The allowed values of a status, in declaration order (for `Literal`-like query checks)."""
    return tuple(member.value for member in status)


class Machine(Generic[S]):
    """A transition table over one `StrEnum`: every member must have a row (maybe empty)."""

    def __init__(self, what: str, moves: Mapping[S, Iterable[S]]) -> None:
        self.what = what
        self.moves: dict[S, frozenset[S]] = {state: frozenset(to) for state, to in moves.items()}
        kinds = {type(state) for state in self.moves}
        assert len(kinds) == 1, f"{what}: the table mixes status types {kinds}"
        (self.status,) = kinds
        missing = set(self.status) - set(self.moves)
        assert not missing, f"{what}: no row for {sorted(missing)}"
        unknown = {to for targets in self.moves.values() for to in targets} - set(self.status)
        assert not unknown, f"{what}: moves to unknown statuses {sorted(unknown)}"

    def allows(self, current: str, new: str) -> bool:
        return self.status(new) in self.moves[self.status(current)]

    def check(self, current: str, new: str) -> None:
        """Raise `IllegalTransition` unless `current` → `new` is in the table."""
        if not self.allows(current, new):
            raise IllegalTransition(f"{self.what} cannot go from {current} to {new}")

    def final(self) -> frozenset[S]:
        """The statuses with no way out."""
        return frozenset(state for state, to in self.moves.items() if not to)
