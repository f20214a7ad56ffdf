"""The refusals of the domain services, said in Chinese on the accountant's pages.

A domain error is mapped by what was being done and its problem type (and, for a validation
error, its rule), never by parsing its English text; an unknown one keeps its original detail
so nothing is hidden."""

from __future__ import annotations

from typing import Final

from app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

MAKER_CHECKER: Final = {
    "daily_batch": "您推送了本批次或暂缓了其中的行：按“制单与审批分离”（复核）的规定，"
    "不能由您审批，须由另一位基金财务审批。",
    "statement": "本结算单由您计算或修改：按“制单与审批分离”（复核）的规定，不能由您审批，"
    "须由另一位基金财务审批。",
    "clearing": "本清算单由您计算或修改：按“制单与审批分离”（复核）的规定，不能由您审批，"
    "须由另一位基金财务审批。",
    "assistance_statement": "本救助结算单由您计算或修改：按“制单与审批分离”（复核）的规定，"
    "不能由您审批，须由另一位基金财务审批。",
    "person_payment": "本笔救助金由您登记：按“制单与审批分离”（复核）的规定，不能由您审批或驳回，"
    "须由另一位基金财务处理。",
}
# The same refusal, short enough for a row of a list.
MAKER_CHECKER_SHORT: Final = "您是本单据的制单人（制单与审批分离），须由另一位基金财务审批。"
NOT_WAITING: Final = "该单据已不在待审批状态（可能已被其他人处理），请刷新页面查看最新状态。"
NOT_FOUND: Final = "没有找到该单据。"
REASON_REQUIRED: Final = "请填写退回原因（不能为空）。"
REASON_TOO_LONG: Final = "退回原因不能超过 300 个字。"

RULES: Final = {
    "repayment_within_receivable": "还款金额超过该机构未结清的应收款，不能登记。",
    "institution_in_region": "该机构不属于所选统筹区。",
    "amount_format": "金额请按“1234.56”的格式填写。",
    "amount_decimals": "金额最多两位小数（到分）。",
    "amount_positive": "金额必须大于零。",
    "amount_max": "金额超出允许的上限。",
}
CONFLICT_CODES: Final = {
    "no-bank-account": "该救助对象在登记册中没有收款账户，审批后无法拨付："
    "请街镇经办先登记其银行账户。",
}
DUPLICATE: Final = {
    "appropriate": "该凭证号已登记过另一笔金额的划拨：同一凭证号不能登记两次。",
    "repay": "该收款回单号已登记过（机构或金额不同）：同一回单号不能登记两次。",
}


def refusal_text(error: DomainError, *, doing: str, entity: str | None = None) -> str:
    """The Chinese sentence for a refusal met while `doing` (approve, reject, appropriate,
    repay) on a document of `entity`."""
    if isinstance(error, Forbidden) and doing == "approve" and entity in MAKER_CHECKER:
        return MAKER_CHECKER[entity]
    if isinstance(error, Forbidden) and doing == "reject" and entity == "person_payment":
        return MAKER_CHECKER[entity]
    if isinstance(error, Conflict) and error.code in CONFLICT_CODES:
        return CONFLICT_CODES[error.code]
    if isinstance(error, Conflict) and doing in ("approve", "reject"):
        return NOT_WAITING
    if isinstance(error, Conflict) and doing in DUPLICATE:
        return DUPLICATE[doing]
    if isinstance(error, NotFound):
        return NOT_FOUND if doing in ("approve", "reject") else "没有找到该机构或基金账套。"
    if isinstance(error, Invalid):
        texts = [RULES[e.rule] for e in error.errors if e.rule in RULES]
        if texts:
            return "；".join(texts)
    return f"操作未完成（{error.detail}）。"
