"""The calls between domains that go against the import order, made explicit in one place.

The bank domain pays documents that other domains own (monthly statements, annual
clearings, the assistance fund's); it cannot import them (they import the bank). So each
kind of payable document registers here, at start-up, the function that follows its payment's
result. `wire()` is called by `create_app`, by the job registry (every job and the command
line) and by the tests; a payment result for a kind nobody registered is an error, never a
silent skip. Likewise the ledger opens an institution's accounts when it is enrolled in a
fund (institutions come before the ledger in the import order).
"""

from __future__ import annotations

from typing import Any, cast

from app.annual import service as annual
from app.assistance import person_payments
from app.assistance import statements as assistance_statements
from app.bank import service as bank
from app.institutions import maintenance as institutions
from app.ledger import service as ledger
from app.monthly import statements
from app.payables.service import Flow

# Every payable document kind, in the order the submission sends them.
PAYABLES: tuple[Flow[Any], ...] = (statements.FLOW, annual.FLOW)
# The assistance fund's (610) payable documents, in the order of A10's "Funds check order"
# for documents approved in the same minute (statements before person payments). The 14:30
# submission sends them one by one under the assistance funds check (treasury/funds.py).
# The person payments (app/assistance/person_payments.py) are not a payables.Flow but take
# the submission the same way (`kind.name`, `submit_due(..., admit)`, `on_payment_result`).
ASSISTANCE_PAYABLES: tuple[Flow[Any], ...] = (
    assistance_statements.FLOW,
    cast(Flow[Any], person_payments.FLOW),
)


def wire() -> None:
    """Register every payable document kind's payment-result handler (idempotent)."""
    for flow in (*PAYABLES, *ASSISTANCE_PAYABLES):
        bank.register_payment_result(flow.kind.name, flow.on_payment_result)
    # A new enrolment opens the institution's ledger accounts of that fund (issue 20.3).
    institutions.on_enrollment(ledger.open_enrolment_accounts)
