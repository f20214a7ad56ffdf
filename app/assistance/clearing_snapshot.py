"""The immutable snapshot of a clearing result's inputs (SPEC-ASSISTANCE A7 "A result records
the difference and a snapshot of its inputs ... content-hashed, never changed"): the person-year
as computed at the clearing, as canonical JSON (sorted keys, amounts as yuan strings), its
sha256, and the sha256 of the inputs the daily suggestions compare (items with their bases,
categories chosen and amounts; deductions; the categories held). Pure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from app.assistance.person_year import PersonYear
from app.assistance.policy import Holding
from app.money import yuan


def canonical(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _inputs(found: PersonYear, holdings: Sequence[Holding]) -> dict[str, Any]:
    return {
        "categories": [
            {
                "category": held.category.value,
                "valid_from": held.valid_from.isoformat(),
                "valid_to": held.valid_to.isoformat() if held.valid_to else None,
            }
            for held in holdings
        ],
        "items": [
            {
                "key": item.key,
                "date": found.stored[item.key].item.day.isoformat(),
                "visit": item.visit.value,
                "gross_base": yuan(item.gross_base_fen),
                "deducted": yuan(item.deducted_fen),
                "relief": yuan(item.relief_fen),
                "base": yuan(item.base_fen),
                "category": item.category.value if item.category else None,
                "amount": yuan(item.amount_fen),
                "maf_pay": yuan(found.stored[item.key].maf_pay_fen),
            }
            for item in found.result.items
        ],
        "deductions": [
            {
                "reference": record.reference,
                "type": record.type,
                "item_key": record.item_key,
                "amount": yuan(record.amount_fen),
                "counted": counts,
            }
            for record, counts in found.deductions
        ],
    }


def inputs_hash(found: PersonYear, holdings: Sequence[Holding]) -> str:
    """What changed since the last clearing is judged by (items, deductions, categories)."""
    return sha256(canonical(_inputs(found, holdings)))


def snapshot(found: PersonYear, holdings: Sequence[Holding]) -> dict[str, Any]:
    """Everything the result was computed from and what it came to."""
    return {
        "psn_no": found.psn_no,
        "year": found.year,
        "region": found.region_code,
        **_inputs(found, holdings),
        "relief": yuan(found.result.relief_fen),
        "relief_spread": yuan(found.result.relief_spread_fen),
        "due": yuan(found.due_fen),
        "granted": {
            "maf_pay": yuan(found.granted.maf_pay_fen),
            "applications": yuan(found.granted.applications_fen),
            "clearings": yuan(found.granted.clearings_fen),
            "total": yuan(found.granted_fen),
        },
        "difference": yuan(found.difference_fen),
    }
