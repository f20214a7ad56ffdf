"""A world for the medical-assistance console pages, built through the services on top of the
office world (people of every role with console passwords, H001 and H002): the `610` fund
switched on 2026-01-01 with A9's stored policy, recipient PERSON (dibao, bank account) with
a one-stop settlement at H001 (documents complete) and one at H002 (documents missing), the
March assistance statements of both hospitals computed, an application recorded by the case
worker `op` waiting for approval, and a claim whose notice is not delivered yet."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import (
    applications,
    claims,
    documents,
    policies,
    recipients,
    statement_computation,
)
from app.assistance.person_schemas import ApplicationIn
from app.assistance.policy_schemas import AssistancePolicyIn
from app.assistance.recovery import Resolution
from app.assistance.schemas import RecipientIn
from app.assistance.statement_models import DOCUMENT_TYPES, AssistanceStatement
from app.auth.principal import Principal
from app.institutions import service as institutions
from app.settlements import service as settlements
from app.settlements.schemas import SettlementIn
from tests.support import builders
from tests.support.builders import ADMIN
from tests.support.console import statement
from tests.support.daily import at
from tests.support.office import world

PERSON = "640100000001"
OTHER = "640100000002"
CLAIM = "CL-2026-001"
APPLICATION = "APP-2026-001"
OPERATOR = Principal(user_id=None, name="op", role="operator")
SEEDED = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
POLICY = {  # SPEC-ASSISTANCE A9 (dibao)
    "region": "640100",
    "effective_from": "2026-01-01",
    "categories": {
        "dibao": {
            "inpatient": {"bands": [["0.00", "0.80"], ["20000.00", "0.90"]], "cap": "30000.00"},
            "outpatient": {"bands": [["0.00", "0.60"]], "cap": "30000.00"},
        }
    },
}


def _recipient(session: Session, psn_no: str, name: str, *, bank: bool) -> None:
    body = {
        "name": name,
        "certno": "640102198001011234",
        "region_code": "640100",
        "categories": [{"category": "dibao", "valid_from": "2026-01-01"}],
    }
    if bank:
        body |= {
            "bank_account": "6222000000009001",
            "bank_account_name": name,
            "bank_code": "102871000011",
        }
    recipients.put(session, psn_no, RecipientIn.model_validate(body), actor=ADMIN, now=SEEDED)


def _settle(session: Session, code: str, setl_id: str, day: date, maf: str) -> None:
    record = SettlementIn.model_validate(
        {
            "fixmedins_code": code,
            "setl_id": setl_id,
            "psn_no": PERSON,
            "insutype": "310",
            "med_type": "21",
            "insuplc_admdvs": "640100",
            "setl_time": at(day, 9).isoformat(),
            "medfee_sumamt": "50000.00",
            "hifp_pay": "18000.00",
            "hifob_pay": "0.00",
            "inscp_scp_amt": "30000.00",
            "hifmi_pay": "2000.00",
            "maf_pay": maf,
        }
    )
    actor = Principal(None, f"user-{code}", "hospital", code)
    settlements.upload_one(session, record, actor=actor, now=at(day, 10))


def seed(session: Session) -> dict[str, int]:
    """The world; returns the ids the tests open (statements, the application)."""
    world(session)
    builders.fund(session, insutype="610", effective_from=date(2026, 1, 1))
    policies.create(session, AssistancePolicyIn.model_validate(POLICY), actor=ADMIN, now=SEEDED)
    _recipient(session, PERSON, "王救助", bank=True)
    _recipient(session, OTHER, "李救助", bank=False)
    _settle(session, "H001", "A1", date(2026, 3, 10), "8000.00")
    _settle(session, "H002", "A9", date(2026, 3, 12), "500.00")
    hospital = Principal(None, "h1", "hospital", "H001")
    documents.record(
        session,
        [documents.Request("H001", "A1", DOCUMENT_TYPES)],
        bulk=False,
        actor=hospital,
        now=SEEDED,
    )
    statement(session, "H001", "2026-03")
    statement(session, "H002", "2026-03")
    fund = institutions.get_fund_ledger(session, "640100", "610")
    statement_computation.compute_due(session, fund, today=date(2026, 4, 1), now=SEEDED)
    invoice = {
        "invoice_no": "F-0001",
        "visit": "outpatient",
        "date": "2026-03-20",
        "medfee_sumamt": "1000.00",
        "inscp_scp_amt": "1000.00",
    }
    payment, _ = applications.record_application(
        session,
        ApplicationIn.model_validate(
            {"reference": APPLICATION, "psn_no": PERSON, "invoices": [invoice]}
        ),
        actor=OPERATOR,
        now=SEEDED,
    )
    claims.add_claim(
        session,
        reference=CLAIM,
        psn_no=PERSON,
        region_code="640100",
        year=2026,
        amount_fen=300_00,
        resolution=Resolution.NEXT_PERIOD,
        made_at=SEEDED,
        now=SEEDED,
    )
    session.commit()
    ids = {
        code: session.scalars(
            select(AssistanceStatement.id).where(AssistanceStatement.fixmedins_code == code)
        ).one()
        for code in ("H001", "H002")
    }
    return {"own": ids["H001"], "other": ids["H002"], "payment": payment.id}
