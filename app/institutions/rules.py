"""Pure rules of reference data: policy in force on a date, region membership, eligibility."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from app.clock import shanghai


@dataclass(frozen=True)
class Policy:
    """The policy parameters of one fund ledger on one date."""

    effective_from: date
    active: bool
    daily_ratio_bp: int
    deposit_rate_bp: int
    submission_time: time
    cutoff_time: time
    declaration_day: int
    appeal_window_days: int
    approval_threshold_fen: int | None
    funds_check: str = "warn"  # "warn" | "block"


def in_force(versions: Sequence[Policy], on: date) -> Policy | None:
    """The version in force on a date; None when switched off (before the first version, or
    a version with active false)."""
    current = None
    for version in sorted(versions, key=lambda v: v.effective_from):
        if version.effective_from <= on:
            current = version
        else:
            break
    if current is None or not current.active:
        return None
    return current


def switched_on_from(versions: Sequence[Policy]) -> date | None:
    active = [v.effective_from for v in versions if v.active]
    return min(active) if active else None


def default_division_prefixes(region_code: str) -> list[str]:
    """SPEC §1: by default the first four digits of the region code (640104 is in 640100)."""
    return [region_code[:4]]


def in_region(insuplc_admdvs: str, prefixes: Sequence[str]) -> bool:
    return any(insuplc_admdvs.startswith(prefix) for prefix in prefixes)


def enabled_med_type(med_type: str, prefixes: Sequence[str]) -> bool:
    return any(med_type.startswith(prefix) for prefix in prefixes)


def enrolled_on(spans: Sequence[tuple[date, date | None]], on: date) -> bool:
    return any(start <= on and (end is None or on <= end) for start, end in spans)


# --- payee changes (收款账户变更) -------------------------------------------------------------

PAYEE_FIELDS = ("bank_account", "bank_account_name", "bank_code")
PAYEE_CHECKER_ROLES = ("accountant", "admin")


def payee_changes(current: dict[str, str], requested: dict[str, str | None]) -> dict[str, str]:
    """The payee fields a request changes: those given and different from the current ones."""
    return {
        field: value
        for field, value in requested.items()
        if field in PAYEE_FIELDS and value is not None and value != current[field]
    }


def may_decide_payee_change(requested_by: str, role: str, name: str) -> str | None:
    """None when this person may approve or reject a payee change; else the reason not.
    Two people: the checker is an accountant or an admin, and never the requester."""
    if role not in PAYEE_CHECKER_ROLES:
        return "a payee change is approved by an accountant or an admin"
    if name == requested_by:
        return "the requester of a payee change may not approve or reject it (two people)"
    return None


def submission_open(policy: Policy, now: datetime) -> bool:
    """Nothing is sent at or after the fund ledger's cutoff (15:00 by default)."""
    return shanghai(now).time() < policy.cutoff_time
