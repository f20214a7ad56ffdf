"""Pure rules of the recipients register (SPEC-ASSISTANCE A2, A10 "Recipients"): masking of
certificate numbers, merging of categories, ending a category on exit. No database, no clock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from app.assistance.policy import Category, Holding

CERTNO_SHOWN_HEAD = 4  # the division code's first digits stay readable
CERTNO_SHOWN_TAIL = 4


def mask_certno(certno: str) -> str:
    """`640102199001011234` -> `6401**********1234`: head and tail shown, the rest starred.
    A number too short to keep both shows its last four only."""
    shown = CERTNO_SHOWN_HEAD + CERTNO_SHOWN_TAIL
    if len(certno) <= shown:
        tail = certno[-CERTNO_SHOWN_TAIL:] if len(certno) > CERTNO_SHOWN_TAIL else ""
        return "*" * (len(certno) - len(tail)) + tail
    hidden = len(certno) - shown
    return certno[:CERTNO_SHOWN_HEAD] + "*" * hidden + certno[-CERTNO_SHOWN_TAIL:]


def merge_holdings(held: Iterable[Holding], listed: Iterable[Holding]) -> list[Holding]:
    """A10: listed categories merge into the held ones by (category, valid_from): a listed one
    replaces the same key, the others stay. Sorted by (category order, valid_from)."""
    merged = {(h.category, h.valid_from): h for h in held}
    for holding in listed:
        merged[(holding.category, holding.valid_from)] = holding
    order = list(Category)
    return sorted(merged.values(), key=lambda h: (order.index(h.category), h.valid_from))


def holding_to_end(held: Sequence[Holding], category: Category, day: date) -> Holding | None:
    """The holding of `category` an exit on `day` ends: the latest one started on or before
    `day` that is open or still held on `day` (None: nothing to end)."""
    candidates = [
        h
        for h in held
        if h.category == category
        and h.valid_from <= day
        and (h.valid_to is None or h.valid_to >= day)
    ]
    return max(candidates, key=lambda h: h.valid_from, default=None)


def ended(holding: Holding, day: date) -> Holding:
    """The holding with `valid_to` = the exit day (inclusive: the last day held)."""
    assert holding.valid_from <= day, "an exit before the category began"
    return replace(holding, valid_to=day)
