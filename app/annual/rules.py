"""Pure annual-clearing rules (SPEC §5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.money import apply_ratio


def band_ratio(score: int, bands: Sequence[tuple[int, int]]) -> int:
    """The band with the highest min_score not above the score (scores in hundredths)."""
    eligible = [(min_score, ratio) for min_score, ratio in bands if min_score <= score]
    if not eligible:
        raise ValueError(f"no band covers the score {score / 100}")
    return max(eligible)[1]


def return_ratio(
    assessment_score: int,
    credit_score: int,
    assessment_bands: Sequence[tuple[int, int]],
    credit_bands: Sequence[tuple[int, int]],
) -> int:
    """min(ratio for the assessment score, ratio for the credit score)."""
    return min(
        band_ratio(assessment_score, assessment_bands), band_ratio(credit_score, credit_bands)
    )


@dataclass(frozen=True)
class Inputs:
    fund_pay_fen: int  # Σ fund_pay over the statements of Y
    audit_fen: int  # Σ audit
    ratio_amount_fen: int  # Σ ratio_amount
    deposit_fen: int  # Σ deposit
    confirmed_clearing_fen: int | None
    budget_fen: int | None
    return_ratio_bp: int
    open_receivable_fen: int


@dataclass(frozen=True)
class Clearing:
    approved_fund_fen: int
    clearing_amount_fen: int
    settled_fen: int
    deposit_held_fen: int
    return_ratio_bp: int
    forfeited_fen: int
    gross_fen: int
    offset_fen: int
    actual_fen: int


def compute(inputs: Inputs) -> Clearing:
    approved_fund = inputs.fund_pay_fen - inputs.audit_fen
    clearing = (
        inputs.confirmed_clearing_fen
        if inputs.confirmed_clearing_fen is not None
        else approved_fund
    )
    if inputs.budget_fen is not None:
        clearing = min(clearing, inputs.budget_fen)
    settled = inputs.ratio_amount_fen - inputs.audit_fen
    held = inputs.deposit_fen
    forfeited = held - apply_ratio(held, inputs.return_ratio_bp)
    gross = clearing - settled - forfeited
    assert inputs.open_receivable_fen >= 0
    offset = min(inputs.open_receivable_fen, max(gross, 0))
    return Clearing(
        approved_fund_fen=approved_fund,
        clearing_amount_fen=clearing,
        settled_fen=settled,
        deposit_held_fen=held,
        return_ratio_bp=inputs.return_ratio_bp,
        forfeited_fen=forfeited,
        gross_fen=gross,
        offset_fen=offset,
        actual_fen=gross - offset,
    )
