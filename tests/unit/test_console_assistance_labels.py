"""The Chinese names of the assistance pages (app/console/assistance_labels.py)."""

from __future__ import annotations

from app.assistance.person_status import PersonPaymentStatus
from app.assistance.policy import Category
from app.assistance.statement_models import DOCUMENT_TYPES
from app.console import assistance_labels as names
from app.console import statuses


def test_every_category_has_a_chinese_name() -> None:
    assert set(names.CATEGORIES) == {category.value for category in Category}
    assert names.category("dibao") == "低保对象" and names.category(None) == "—"
    assert names.category("unknown") == "unknown"


def test_an_item_key_says_where_the_cost_arose() -> None:
    assert names.item_source("S:H001:S-1:2") == ("机构 H001", "结算 S-1:2")
    assert names.item_source("I:F-0001") == ("零星报销", "发票 F-0001")
    assert names.item_source("X") == ("X", "")


def test_the_documents_in_the_office_order() -> None:
    assert [code for code, _ in names.DOCUMENTS] == list(DOCUMENT_TYPES)
    assert dict(names.DOCUMENTS)["advance_form"] == "垫付统计表"


def test_every_person_payment_status_has_a_label() -> None:
    for status in PersonPaymentStatus:
        text, colour = statuses.label(status.value, "person_payment")
        assert text != status.value and colour in statuses.COLOURS
    assert statuses.label("PENDING_APPROVAL", "person_payment")[0] == "待审批"
    assert statuses.FUND_NAMES["610"] == "医疗救助"
