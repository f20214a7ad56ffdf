"""The assistance fund in a scenario (SCENARIOS.md "Assistance", SPEC-ASSISTANCE.md): its set-up
(the `610` fund ledgers, policies, recipients) and its events, each through the HTTP API with its
actor's credentials, as the basic funds' events."""

from __future__ import annotations

from typing import Any

from app.scenarios.base import _expenditure_account
from app.scenarios.events import Events

ASSISTANCE = "610"
BASE = "/api/v1/assistance"


def recipient_body(entry: dict[str, Any]) -> dict[str, Any]:
    """A scenario's `recipients` entry as the register's PUT body (A2)."""
    body: dict[str, Any] = {
        "name": entry["name"],
        "certno": entry["cert_no"],
        "region_code": entry["region"],
        "categories": entry.get("categories", []),
    }
    for field in ("bank_account", "bank_account_name", "bank_code"):
        if entry.get(field) is not None:
            body[field] = entry[field]
    if entry.get("income_last_year") is not None:
        body["last_year_income"] = entry["income_last_year"]
    return body


class AssistanceEvents(Events):
    """The set-up of the assistance fund and one handler per assistance event type (beside the
    basic funds' events, whose bank moves they share)."""

    def _set_up_assistance(self) -> None:
        for fund in sorted(self.scenario.assistance_funds, key=lambda f: f.effective_from):
            self._must(
                "operator",
                "POST",
                "/api/v1/fund-ledgers",
                {
                    "region_code": fund.region,
                    "insutype": ASSISTANCE,
                    "name": f"{fund.region} 医疗救助基金",
                    "expenditure_account": _expenditure_account(fund.region, ASSISTANCE),
                    "expenditure_account_name": f"医疗救助基金支出户 {fund.region}",
                },
            )
            self._must(
                "operator",
                "POST",
                f"/api/v1/fund-ledgers/{fund.region}/{ASSISTANCE}/policies",
                {"effective_from": fund.effective_from.isoformat()},
            )
        for policy in self.scenario.assistance_policies:
            self._must("operator", "POST", f"{BASE}/policies", policy)
        for entry in self.scenario.recipients:
            self._must(
                "operator", "PUT", f"{BASE}/recipients/{entry['psn_no']}", recipient_body(entry)
            )

    # -- hospitals' documents (A5) ------------------------------------------------------------

    def _event_assistance_documents(self, data: dict[str, Any]) -> Any:
        code = data.get("fixmedins_code", "")
        actor = code if code in self.headers else "admin"
        return self._call(actor, "POST", f"{BASE}/documents", data)

    def _event_assistance_document_reject(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", f"{BASE}/documents/reject", data)

    # -- persons (A2, A6, A7) -----------------------------------------------------------------

    def _event_recipient(self, data: dict[str, Any]) -> Any:
        psn_no = data.get("psn_no", "")
        return self._call("operator", "PUT", f"{BASE}/recipients/{psn_no}", recipient_body(data))

    def _event_application(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", f"{BASE}/applications", data)

    def _event_deduction(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", f"{BASE}/deductions", data)

    def _event_assistance_clear(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", f"{BASE}/clearings", data)

    def _event_assistance_notice_delivered(self, data: dict[str, Any]) -> Any:
        reference = data.get("reference", "")
        return self._call("operator", "POST", f"{BASE}/clearings/{reference}/notice-delivered", {})

    def _event_assistance_annual_clearing(self, data: dict[str, Any]) -> Any:
        return self._call("admin", "POST", f"{BASE}/annual-clearings", data)

    def _event_care_grant(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", f"{BASE}/care-grants", data)

    def _event_person_repayment(self, data: dict[str, Any]) -> Any:
        response = self._call("accountant", "POST", f"{BASE}/person-repayments", data)
        if response.status_code == 201:
            self._bank_moves(
                data["region"],
                ASSISTANCE,
                "CREDIT",
                data["amount"],
                data["receipt_no"],
                "救助对象退回款",
            )
        return response

    # -- the prepayment (A8) ------------------------------------------------------------------

    def _prepayment(self, data: dict[str, Any]) -> dict[str, Any] | None:
        response = self._call(
            "accountant",
            "GET",
            f"{BASE}/prepayments?region_code={data.get('region', '')}&year={data.get('year', '')}",
        )
        if response.status_code != 200:
            return None
        items = response.json().get("items", [])
        return items[0] if items else None

    def _event_prepayment_approve(self, data: dict[str, Any]) -> Any:
        """Two events by two accountants: the second approval of a prepayment is made by the
        scenario's second accountant."""
        prepayment = self._prepayment(data)
        if prepayment is None:
            return _Missing()
        key = (str(data.get("region")), str(data.get("year")))
        actor = "accountant2" if key in self.prepayment_approved else "accountant"
        response = self._call(
            actor,
            "POST",
            f"{BASE}/prepayments/{prepayment['id']}/approve",
            {"approval_ref": data.get("approval_ref", "")},
        )
        if response.status_code < 300:
            self.prepayment_approved.add(key)
        return response

    def _event_prepayment_receive(self, data: dict[str, Any]) -> Any:
        prepayment = self._prepayment(data)
        if prepayment is None:
            return _Missing()
        response = self._call(
            "accountant",
            "POST",
            f"{BASE}/prepayments/{prepayment['id']}/receive",
            {"bank_reference": data.get("bank_reference", "")},
        )
        if response.status_code < 300 and prepayment["transfer"] not in ("0", "0.00"):
            self._bank_moves(
                str(data["region"]),
                ASSISTANCE,
                "CREDIT",
                prepayment["transfer"],
                str(data.get("bank_reference", "")),
                "医疗救助预付款",
            )
        return response


class _Missing:
    """The answer to an event about a document that does not exist: refused as a 404."""

    status_code = 404
    text = "no such prepayment"
