"""The notice (事前告知) of a negative clearing result (SPEC-ASSISTANCE A7 "< 0"): what the
person owes, on which items, and how it will be recovered, from the result's immutable
snapshot; the console prints it (Chinese where people read). Reads only."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from app.assistance import claims, clearings, recipients
from app.assistance.recovery import Resolution
from app.errors import NotFound
from app.money import yuan

RESOLUTION_LABELS = {Resolution.NEXT_PERIOD: "下期抵扣", Resolution.CASH: "现金追款"}
VISIT_LABELS = {"inpatient": "住院", "outpatient": "门诊"}
CATEGORY_LABELS = {
    "tekun": "特困供养人员",
    "orphan": "孤儿",
    "dibao": "低保对象",
    "low_income": "低收入",
    "poverty_registered": "建档立卡贫困人口",
    "expense_poverty": "支出型贫困",
}


def how_recovered(resolution: Resolution, owed: str) -> str:
    if resolution is Resolution.NEXT_PERIOD:
        return (
            f"您多获得的医疗救助金 {owed} 元将从您此后的医疗救助申请、补差发放或关怀救助金中抵扣"
            "（下期抵扣，可跨年度），本告知书送达前不予抵扣；您也可随时以现金退还。"
        )
    return (
        f"请您将多获得的医疗救助金 {owed} 元以现金退还至医疗救助基金（现金追款），"
        "经办机构收款后出具收据；该款项不从您此后的救助金中抵扣。"
    )


def notice(session: Session, reference: str) -> dict[str, Any]:
    """The notice of clearing `reference` (404 unknown or not negative: no notice)."""
    clearing = clearings.get(session, reference)
    if clearing.difference_fen >= 0 or clearing.resolution is None:
        raise NotFound(f"clearing {reference} owes nothing: it has no notice")
    claim = claims.get_claim(session, reference)
    person = recipients.get(session, clearing.psn_no)
    snapshot = json.loads(clearing.snapshot)
    resolution = Resolution(clearing.resolution)
    owed = yuan(-clearing.difference_fen)
    return {
        "reference": clearing.reference,
        "title": "医疗救助个人清算事前告知书",
        "psn_no": clearing.psn_no,
        "name": person.name,
        "region": clearing.region_code,
        "year": clearing.year,
        "mode": clearing.mode,
        "made_at": clearing.made_at,
        "items": [
            {
                "key": item["key"],
                "date": item["date"],
                "visit": item["visit"],
                "visit_label": VISIT_LABELS.get(item["visit"], item["visit"]),
                "base": item["base"],
                "category": item["category"],
                "category_label": CATEGORY_LABELS.get(item["category"] or "", "未享受救助类别"),
                "amount": item["amount"],
            }
            for item in snapshot["items"]
        ],
        "deductions": snapshot["deductions"],
        "due": snapshot["due"],
        "granted": snapshot["granted"]["total"],
        "owed": owed,
        "resolution": resolution.value,
        "resolution_label": RESOLUTION_LABELS[resolution],
        "how_recovered": how_recovered(resolution, owed),
        "open": yuan(claim.open_fen),
        "notice_delivered_at": claim.notice_delivered_at,
        "snapshot_hash": clearing.snapshot_hash,
    }
