"""Pure rules of settlement intake: fund amount, eligibility, periods, held totals."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from app.clock import business_date, period_add, period_of
from app.errors import FieldError
from app.institutions import rules as institution_rules
from app.institutions.rules import Policy
from app.states import Machine


class SettlementStatus(StrEnum):
    """A settlement's status (API.md GET /settlements), read from its revocation, its daily
    batch and that batch's payment (app.settlements.status); never stored."""

    ACCEPTED = "accepted"
    BATCHED = "batched"
    PAID = "paid"
    REVOKED = "revoked"


SETTLEMENT: Machine[SettlementStatus] = Machine(
    "a settlement",
    {
        SettlementStatus.ACCEPTED: {SettlementStatus.BATCHED, SettlementStatus.REVOKED},
        SettlementStatus.BATCHED: {SettlementStatus.PAID, SettlementStatus.REVOKED},
        SettlementStatus.PAID: {SettlementStatus.REVOKED},
        SettlementStatus.REVOKED: set(),
    },
)
SETTLEMENT_START = SettlementStatus.ACCEPTED


class UploadOutcome(StrEnum):
    """What an upload did with one record (POST /settlements/bulk; not stored)."""

    CREATED = "created"
    DUPLICATE = "duplicate"  # the same content again: the stored settlement stands
    CONFLICT = "conflict"  # other content under a stored setl_id: refused
    INVALID = "invalid"  # refused by a field rule


class ReconciliationStatus(StrEnum):
    """A posted reconciliation (stored in reconciliation.status); a row is never changed,
    a hospital posts the day again."""

    RECONCILED = "RECONCILED"
    MISMATCHED = "MISMATCHED"


class DayReconciliation(StrEnum):
    """Whether a day is reconciled now (GET /reconciliations; computed, not stored): its
    latest reconciliation's status, UNRECONCILED when there is none or the held totals
    changed after it. No transition table: a day moves between any two of them (a new
    settlement or revocation of the day, the hospital posting it again)."""

    RECONCILED = "RECONCILED"
    MISMATCHED = "MISMATCHED"
    UNRECONCILED = "UNRECONCILED"


def reconciliation_status(matches: bool, differences: Sequence[Any]) -> ReconciliationStatus:
    """RECONCILED when the totals match and no settlement id differs."""
    if matches and not differences:
        return ReconciliationStatus.RECONCILED
    return ReconciliationStatus.MISMATCHED


def fund_amount(insutype: str, hifp_pay_fen: int, hifob_pay_fen: int) -> int:
    """基本医保统筹基金支付金额: hifp_pay, plus the large-expense subsidy for 310."""
    return hifp_pay_fen + (hifob_pay_fen if insutype == "310" else 0)


def assign_period(setl_day: date, declared_through: str | None) -> str:
    """SPEC §4: the settlement's month, unless declared: then the earliest undeclared month."""
    month = period_of(setl_day)
    if declared_through is not None and month <= declared_through:
        return period_add(declared_through, 1)
    return month


def batch_date(setl_day: date, last_generated: date | None) -> date:
    """The daily batch that takes a settlement: its date, unless that batch is generated
    already; then the next one to be generated."""
    if last_generated is not None and setl_day <= last_generated:
        return last_generated + timedelta(days=1)
    return setl_day


def revocation_period(settlement_period: str, declared_through: str | None) -> str:
    """SPEC §4: the settlement's period while undeclared (they cancel out), else the earliest
    undeclared period (as a negative amount)."""
    if declared_through is not None and settlement_period <= declared_through:
        return period_add(declared_through, 1)
    return settlement_period


@dataclass(frozen=True)
class InstitutionContext:
    """What eligibility needs to know of one institution, loaded once per upload."""

    code: str
    level: int
    region_code: str
    division_prefixes: tuple[str, ...]
    med_type_prefixes: tuple[str, ...]
    enrollments: Mapping[str, tuple[tuple[date, date | None], ...]]  # insutype -> spans
    policies: Mapping[str, tuple[Policy, ...]]  # insutype -> fund ledger policy versions
    fund_ids: Mapping[str, int]  # insutype -> fund ledger id


def eligibility_errors(
    record: Mapping[str, Any], context: InstitutionContext | None, now: datetime
) -> list[FieldError]:
    """Every API.md rule beyond field types; each refusal names its field and rule."""
    errors: list[FieldError] = []
    if context is None:
        return [FieldError("fixmedins_code", "institution_exists", "no such institution")]
    insutype = record["insutype"]
    setl_time: datetime = record["setl_time"]
    if record["hifob_pay"] and insutype != "310":
        errors.append(
            FieldError("hifob_pay", "hifob_pay_only_310", "the large-expense subsidy is 310 only")
        )
    if record["hifp_pay"] + record["hifob_pay"] > record["medfee_sumamt"]:
        errors.append(
            FieldError(
                "hifp_pay", "fund_within_total", "hifp_pay + hifob_pay exceeds medfee_sumamt"
            )
        )
    if setl_time > now:
        errors.append(FieldError("setl_time", "not_in_future", "setl_time is after the upload"))
    if context.level < 2:
        errors.append(
            FieldError("fixmedins_code", "institution_level", "only level 2 and above are paid")
        )
    day = business_date(setl_time)
    if not institution_rules.enrolled_on(context.enrollments.get(insutype, ()), day):
        errors.append(
            FieldError(
                "insutype",
                "institution_enrolled",
                f"the institution is not enrolled for {insutype} on {day}",
            )
        )
    if institution_rules.in_force(context.policies.get(insutype, ()), day) is None:
        errors.append(
            FieldError(
                "insutype",
                "fund_switched_on",
                f"fund ledger {context.region_code}:{insutype} is not switched on on {day}",
            )
        )
    if not institution_rules.in_region(record["insuplc_admdvs"], context.division_prefixes):
        errors.append(
            FieldError(
                "insuplc_admdvs",
                "same_pooling_region",
                f"the insured person is not of pooling region {context.region_code}",
            )
        )
    if not institution_rules.enabled_med_type(record["med_type"], context.med_type_prefixes):
        errors.append(
            FieldError("med_type", "inpatient_med_type", "not an enabled inpatient medical type")
        )
    return errors


# The one-stop fields (SPEC-ASSISTANCE A3), optional with default 0; every payer of A10.
ONE_STOP_FIELDS = ("inscp_scp_amt", "hifmi_pay", "cvlserv_pay", "hifes_pay", "maf_pay", "oth_pay")
PAYER_FIELDS = (
    "hifp_pay",
    "hifob_pay",
    "hifmi_pay",
    "cvlserv_pay",
    "hifes_pay",
    "oth_pay",
    "maf_pay",
)


def one_stop_errors(record: Mapping[str, Any], holds_category: bool) -> list[FieldError]:
    """A3 and A10: `inscp_scp_amt` ≤ total, every payer together ≤ total, `maf_pay` > 0 needs
    `inscp_scp_amt` > 0 and a person who holds a category on the settlement date."""
    errors: list[FieldError] = []
    total = record["medfee_sumamt"]
    if record.get("inscp_scp_amt", 0) > total:
        errors.append(
            FieldError("inscp_scp_amt", "inscp_within_total", "inscp_scp_amt exceeds medfee_sumamt")
        )
    if sum(record.get(field, 0) for field in PAYER_FIELDS) > total:
        errors.append(
            FieldError(
                "medfee_sumamt",
                "payers_within_total",
                "the payers together (hifp, hifob, hifmi, cvlserv, hifes, oth, maf) exceed "
                "medfee_sumamt",
            )
        )
    if record.get("maf_pay", 0) > 0:
        if record.get("inscp_scp_amt", 0) <= 0:
            errors.append(
                FieldError("maf_pay", "maf_needs_inscp", "maf_pay needs inscp_scp_amt above 0")
            )
        if not holds_category:
            errors.append(
                FieldError(
                    "maf_pay",
                    "not_a_recipient",
                    "the person holds no assistance category on the settlement date",
                )
            )
    return errors


def content_hash(record: Mapping[str, Any]) -> str:
    """Identity of an upload's content (for replay vs conflict); times compared as instants.
    A one-stop field at 0 is left out: a settlement uploaded before those fields existed,
    sent again identically, is a replay, and "0.00" sent is the same as not sent."""
    parts = []
    for key in sorted(record):
        value = record[key]
        if key in ONE_STOP_FIELDS and value == 0:
            continue
        if isinstance(value, datetime):
            moment = value.astimezone(UTC) if value.tzinfo is not None else value
            parts.append(f"{key}={moment.isoformat()}")
        else:
            parts.append(f"{key}={value!r}")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class DayTotals:
    count: int
    fund_fen: int


def held_totals(
    settlements: Sequence[tuple[date, int, int]], revocations: Sequence[tuple[date, int, int]]
) -> dict[date, DayTotals]:
    """SPEC §3.2: per date, settlements dated that day minus revocations made that day.
    Inputs are (date, count, fund fen) groups."""
    totals: dict[date, list[int]] = {}
    for day, count, fund in settlements:
        entry = totals.setdefault(day, [0, 0])
        entry[0] += count
        entry[1] += fund
    for day, count, fund in revocations:
        entry = totals.setdefault(day, [0, 0])
        entry[0] -= count
        entry[1] -= fund
    return {day: DayTotals(count, fund) for day, (count, fund) in totals.items()}
