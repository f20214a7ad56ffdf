"""Chinese names of what the medical-assistance pages show (SPEC-ASSISTANCE A2-A7): categories,
visit types, deduction types, kinds of person payment, claim resolutions, an item's source.
Unknown values show as themselves."""

from __future__ import annotations

from typing import Final

from app.assistance.statement_models import DOCUMENT_NAMES, DOCUMENT_TYPES

CATEGORIES: Final[dict[str, str]] = {
    "tekun": "特困供养人员",
    "orphan": "孤儿",
    "dibao": "低保对象",
    "low_income": "低收入人口",
    "poverty_registered": "建档立卡贫困人口",
    "expense_poverty": "支出型贫困（因病致贫）",
}

VISITS: Final[dict[str, str]] = {"inpatient": "住院", "outpatient": "门诊"}

DEDUCTION_TYPES: Final[dict[str, str]] = {
    "critical_illness": "大病保险",
    "mutual_aid": "职工医疗互助",
    "other": "其他",
    "burden_relief": "综合减负",
}

PAYMENT_KINDS: Final[dict[str, str]] = {
    "application": "救助申请（零星报销）",
    "top_up": "补差发放",
    "grant": "大病关怀救助",
}

RESOLUTIONS: Final[dict[str, str]] = {"next_period": "下期抵扣", "cash": "现金追款"}

DOCUMENTS: Final[tuple[tuple[str, str], ...]] = tuple(
    (name, DOCUMENT_NAMES[name]) for name in DOCUMENT_TYPES
)


def category(code: str | None) -> str:
    if code is None:
        return "—"
    return CATEGORIES.get(code, code)


def item_source(key: str) -> tuple[str, str]:
    """An item key as (what, which): `S:H001:S1` -> ("机构 H001", "结算 S1"), `I:F9` ->
    ("零星报销", "发票 F9")."""
    kind, _, rest = key.partition(":")
    if kind == "S":
        code, _, setl_id = rest.partition(":")
        return f"机构 {code}", f"结算 {setl_id}"
    if kind == "I":
        return "零星报销", f"发票 {rest}"
    return key, ""
