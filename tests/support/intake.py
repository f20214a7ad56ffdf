"""A small intake world: region 640100 (funds 310 and 390), H001 (level 3, both funds),
H002 (level 2, 310), H003 (level 1, 310); one hospital user each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.support import builders
from tests.support.builders import bearer


def world(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H001", insutypes=("310", "390"))
    builders.institution(session, "H002", level=2)
    builders.institution(session, "H003", level=1)
    headers = {
        code: bearer(builders.user_token(session, f"user-{code}", "hospital", code))
        for code in ("H001", "H002", "H003")
    }
    headers["operator"] = bearer(builders.user_token(session, "op", "operator"))
    headers["accountant"] = bearer(builders.user_token(session, "acc", "accountant"))
    session.commit()
    return headers


def record(setl_id: str = "S1", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "fixmedins_code": "H001",
        "setl_id": setl_id,
        "psn_no": "P0001",
        "insutype": "310",
        "med_type": "21",
        "insuplc_admdvs": "640100",
        "setl_time": "2026-03-06T09:10:00+08:00",
        "medfee_sumamt": "15000.00",
        "hifp_pay": "9000.00",
        "hifob_pay": "1000.00",
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}
