"""A small assistance world (SPEC-ASSISTANCE A9's region): 640100 with H001 (310, 390), the
`610` fund switched on 2026-02-01, recipients P1 (dibao + low_income all 2026) and P2
(dibao), A9's policy as a pure Policy, and settlements uploaded by H001 over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.assistance.policy import Band, Category, Policy, Rule, Visit
from app.assistance.recipients import put
from app.assistance.schemas import RecipientIn
from app.money import to_fen
from tests.support import builders
from tests.support.builders import ADMIN, NOW, bearer
from tests.support.intake import record, world

SWITCH_ON = date(2026, 2, 1)
DIBAO, LOW_INCOME, TEKUN = Category.DIBAO, Category.LOW_INCOME, Category.TEKUN
INPATIENT, OUTPATIENT = Visit.INPATIENT, Visit.OUTPATIENT


def rule(bands: list[tuple[str, int]], deductible: str = "0.00", cap: str | None = None) -> Rule:
    return Rule(
        bands=tuple(Band(to_fen(start), ratio_bp) for start, ratio_bp in bands),
        deductible_fen=to_fen(deductible),
        cap_fen=None if cap is None else to_fen(cap),
    )


# A9's policy, in force all of 2026.
A9_POLICY = Policy(
    effective_from=date(2026, 1, 1),
    rules={
        (DIBAO, INPATIENT): rule([("0.00", 8000), ("20000.00", 9000)], cap="30000.00"),
        (DIBAO, OUTPATIENT): rule([("0.00", 6000)], cap="30000.00"),
        (LOW_INCOME, INPATIENT): rule([("0.00", 7000)], deductible="1000.00", cap="20000.00"),
        (LOW_INCOME, OUTPATIENT): rule([("0.00", 5000)], cap="20000.00"),
        (TEKUN, INPATIENT): rule([("0.00", 10000)]),
        (TEKUN, OUTPATIENT): rule([("0.00", 10000)]),
    },
)


def a9_policy(day: date) -> Policy | None:
    return A9_POLICY if day >= A9_POLICY.effective_from else None


def recipient(session: Session, psn_no: str, *categories: Category) -> None:
    put(
        session,
        psn_no,
        RecipientIn.model_validate(
            {
                "name": "张某",
                "certno": "640102198001011234",
                "region_code": "640100",
                "categories": [
                    {"category": category.value, "valid_from": "2026-01-01"}
                    for category in categories
                ],
            }
        ),
        actor=ADMIN,
        now=NOW,
    )


def assistance_world(session: Session) -> dict[str, dict[str, str]]:
    headers = world(session)
    builders.fund(session, insutype="610", effective_from=SWITCH_ON)
    recipient(session, "P1", DIBAO, LOW_INCOME)
    recipient(session, "P2", DIBAO)
    headers["auditor"] = bearer(builders.user_token(session, "aud", "auditor"))
    headers["admin"] = bearer(builders.user_token(session, "adm", "admin"))
    session.commit()
    return headers


def settle(
    client: TestClient,
    headers: dict[str, dict[str, str]],
    setl_id: str,
    when: str,
    *,
    inscp: str,
    hifp: str,
    hifmi: str = "0.00",
    maf: str = "0.00",
    psn_no: str = "P1",
) -> dict[str, Any]:
    """H001 uploads a 390 inpatient settlement of `psn_no` at `when` (Shanghai), medfee = inscp."""
    body = record(
        setl_id,
        psn_no=psn_no,
        insutype="390",
        med_type="21",
        setl_time=f"{when}T10:00:00+08:00",
        medfee_sumamt=inscp,
        hifp_pay=hifp,
        hifob_pay=None,
        inscp_scp_amt=inscp,
        hifmi_pay=hifmi,
        maf_pay=maf,
    )
    response = client.post("/api/v1/settlements", json=body, headers=headers["H001"])
    assert response.status_code == 201, response.text
    return response.json()


def a9_settlements(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    """A9 rows 1 and 2: S1 (03-10) and S2 (05-20) of P1 at H001."""
    settle(client, headers, "S1", "2026-03-10", inscp="30000.00", hifp="18000.00",
           hifmi="2000.00", maf="8000.00")  # fmt: skip
    settle(client, headers, "S2", "2026-05-20", inscp="40000.00", hifp="22000.00",
           hifmi="3000.00", maf="12000.00")  # fmt: skip
