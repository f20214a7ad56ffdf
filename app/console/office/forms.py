"""Forms of the office pages: read a POST form, validate it with the API's own Pydantic model
(the same rules as the API), and say what is wrong in Chinese; domain refusals too.

A refusal keeps the service's rule: `Invalid` errors are translated by their rule, a conflict
or a missing resource by what the page was doing (`on_conflict`, `on_missing`); anything not
translated shows its English detail after a Chinese lead, never nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import Conflict, DomainError, FieldError, NotFound

Model = TypeVar("Model", bound=BaseModel)

# Field names of the API's models (and of the forms) in Chinese.
FIELDS: dict[str, str] = {
    "fixmedins_code": "机构编号",
    "setl_id": "结算ID",
    "rule_code": "审核规则编码",
    "amount": "金额",
    "reason": "原因",
    "insutype": "险种",
    "period": "结算期",
    "reference": "垫付单号",
    "year": "年度",
    "assessment_score": "考核得分",
    "credit_score": "信用得分",
    "clearing_amount": "年度清算金额",
    "budget": "年度预算",
    "name": "名称",
    "level": "医院等级",
    "bank_account": "收款账号",
    "bank_account_name": "收款户名",
    "bank_code": "开户行行号",
    "med_type_prefixes": "住院医疗类别前缀",
    "start_date": "开始日期",
    "end_date": "结束日期",
    "effective_from": "生效日期",
    "active": "启用",
    "daily_ratio": "日拨付比例",
    "deposit_rate": "质量保证金比例",
    "submission_time": "提交银行时间",
    "cutoff_time": "银行截止时间",
    "declaration_day": "申报截止日",
    "appeal_window_days": "申诉期（工作日）",
    "approval_threshold": "二次审批金额线",
    "business_date": "业务日期",
    "working": "日期类型",
    "note": "说明",
    "day": "日期",
    "role": "角色",
    "password": "密码",
    "final": "是否终审",
    "item": "该行",
    "appeal": "申诉",
}

# Pydantic and money rules -> Chinese (the field's label is put in front).
RULES: dict[str, str] = {
    "missing": "必填",
    "string_too_short": "必填",
    "string_too_long": "过长",
    "string_pattern_mismatch": "格式不对",
    "literal_error": "不在可选范围内",
    "enum": "不在可选范围内",
    "int_parsing": "请填写整数",
    "int_type": "请填写整数",
    "int_from_float": "请填写整数",
    "greater_than_equal": "超出允许的范围",
    "less_than_equal": "超出允许的范围",
    "greater_than": "超出允许的范围",
    "less_than": "超出允许的范围",
    "date_parsing": "请按“2026-09-01”的格式填写日期",
    "date_from_datetime_parsing": "请按“2026-09-01”的格式填写日期",
    "date_type": "请按“2026-09-01”的格式填写日期",
    "bool_parsing": "请选择是或否",
    "list_type": "格式不对",
    "too_short": "至少填写一项",
    "too_long": "项数过多",
    "amount_type": "金额请写成“1234.56”的形式（单位：元）",
    "amount_format": "金额请写成“1234.56”的形式（单位：元）",
    "amount_decimals": "金额最多两位小数（到分）",
    "amount_no_exponent": "金额请写成“1234.56”的形式（单位：元）",
    "amount_finite": "金额请写成“1234.56”的形式（单位：元）",
    "amount_max": "金额超过上限（1000 亿元）",
    "amount_positive": "金额须大于 0",
    "amount_non_negative": "金额不能为负数",
    "ratio_type": "比例请写成“0.60”的形式",
    "ratio_range": "比例应在 0 到 1 之间",
    "ratio_decimals": "比例最多两位小数",
    "score_type": "分数请填写 0 到 100 之间的数",
    "score_decimals": "分数最多两位小数",
    "score_range": "分数应在 0 到 100 之间",
    "cutoff_after_submission": "银行截止时间须晚于提交银行时间",
    "end_after_start": "结束日期不能早于开始日期",
    # domain rules (Invalid.field) of the services the office pages call
    "settlement_not_revoked": "该笔结算已撤销，不能再扣款",
    "deduction_within_fund": "该笔结算的扣款合计将超过其统筹基金支付金额",
    "amount_not_higher": "金额只能逐级调低，不能高于上一步的金额",
    "fund_ledger_exists": "该机构所在统筹区没有这个险种的基金账套",
    "not_after_due_date": "不能为晚于今天应运行日期的业务日期运行",
    "due_date_only": "只能为今天应运行的业务日期运行",
    "role_known": "没有这个角色",
    "hospital_has_institution": "医院用户必须绑定所属机构",
    "institution_exists": "没有这个机构",
    "only_hospital_has_institution": "只有医院用户才绑定机构",
    "password_length": "密码长度应为 10 到 128 个字符",
    "appeal_window": "申诉期已过",
    "region_exists": "没有这个统筹区",
}


def label(field: str) -> str:
    return FIELDS.get(field, field)


def field_message(field: str, rule: str, message: str) -> str:
    """One error as `字段：规则` in Chinese (the rule's text alone for a whole item)."""
    text = RULES.get(rule)
    if text is None:
        return f"{label(field)}：填写有误（{message}）"
    return f"{label(field)}：{text}" if field not in ("", "item", "body") else text


def _bound(rule: str, context: Mapping[str, Any]) -> str | None:
    """The limit a length or range rule names, in Chinese (None: the rule's plain text)."""
    if rule == "string_too_short" and int(context.get("min_length", 1)) > 1:
        return f"至少 {context['min_length']} 个字符"
    if rule == "string_too_long" and "max_length" in context:
        return f"最多 {context['max_length']} 个字符"
    if rule in ("greater_than_equal", "greater_than") and "ge" in context:
        return f"不能小于 {context['ge']}"
    if rule in ("less_than_equal", "less_than") and "le" in context:
        return f"不能大于 {context['le']}"
    return None


def validation_messages(error: ValidationError) -> list[str]:
    """Each Pydantic error as `字段：规则` in Chinese."""
    messages = []
    for one in error.errors():
        location = [str(part) for part in one.get("loc", ()) if not str(part).isdigit()]
        field = location[-1] if location else ""
        rule = str(one.get("type", ""))
        bound = _bound(rule, one.get("ctx") or {})
        if bound is not None:
            messages.append(f"{label(field)}：{bound}")
        else:
            messages.append(field_message(field, rule, str(one.get("msg", ""))))
    return messages


def parse(model: type[Model], data: Mapping[str, Any]) -> tuple[Model | None, list[str]]:
    """The model from form values (empty text = not given), or the Chinese errors."""
    values = {key: value for key, value in data.items() if value not in ("", None)}
    try:
        return model.model_validate(values), []
    except ValidationError as error:
        return None, validation_messages(error)


def refusal(
    error: DomainError, *, on_conflict: str | None = None, on_missing: str | None = None
) -> list[str]:
    """A service's refusal in Chinese: its field errors by rule, else by kind."""
    if error.errors:
        return [_error_of(one) for one in error.errors]
    if isinstance(error, Conflict) and on_conflict:
        return [on_conflict]
    if isinstance(error, NotFound) and on_missing:
        return [on_missing]
    lead = {
        404: "没有找到相应的记录",
        409: "与现有数据冲突，未保存",
        403: "您的角色不能执行此操作",
        422: "填写有误，未保存",
    }.get(error.status, "未能完成操作")
    return [f"{lead}（{error.detail}）"]


def _error_of(one: FieldError) -> str:
    return field_message(one.field, one.rule, one.message)
