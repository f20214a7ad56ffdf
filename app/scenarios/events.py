"""The scenario's events, each played through the HTTP API with its actor's credentials (moved out
of app/scenarios/runner.py as they were)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.clock import business_date as date_of
from app.money import to_fen
from app.scenarios.base import RunnerBase, _expenditure_account


class Events(RunnerBase):
    """One handler per event type: `_event_<type>`."""

    def _hospital(self, data: dict[str, Any]) -> str:
        code = data.get("fixmedins_code", "")
        return code if code in self.headers else "admin"

    def _event_settlement(self, data: dict[str, Any]) -> Any:
        response = self._call(self._hospital(data), "POST", "/api/v1/settlements", data)
        if response.status_code == 201:
            body = response.json()
            fund = to_fen(body["fund_amount"])
            key = (body["fixmedins_code"], body["insutype"], date.fromisoformat(body["setl_date"]))
            self.uploads[(body["fixmedins_code"], body["setl_id"])] = (body["insutype"], fund)
            self.own_totals[key][0] += 1
            self.own_totals[key][1] += fund
            self.dirty_days.add(key)
        return response

    def _event_revoke(self, data: dict[str, Any]) -> Any:
        code, setl_id = data["fixmedins_code"], data["setl_id"]
        response = self._call(
            self._hospital(data),
            "POST",
            f"/api/v1/settlements/{code}/{setl_id}/revoke",
            {"reason": data.get("reason", "")},
        )
        if response.status_code == 201 and (code, setl_id) in self.uploads:
            insutype, fund = self.uploads[(code, setl_id)]
            key = (code, insutype, date_of(self.clock.now()))
            self.own_totals[key][0] -= 1
            self.own_totals[key][1] -= fund
            self.dirty_days.add(key)
        return response

    def _event_reconcile(self, data: dict[str, Any]) -> Any:
        return self._call(self._hospital(data), "POST", "/api/v1/reconciliations", data)

    def _event_declare(self, data: dict[str, Any]) -> Any:
        response = self._call(self._hospital(data), "POST", "/api/v1/declarations", data)
        if response.status_code in (200, 201):
            key = (data["fixmedins_code"], data["insutype"])
            self.declared[key] = max(self.declared.get(key, ""), data["period"])
        return response

    def _audit_path(self, data: dict[str, Any], action: str) -> str:
        code, setl_id, rule = data["fixmedins_code"], data["setl_id"], data["rule_code"]
        return f"/api/v1/audits/{code}/{setl_id}/{rule}/{action}"

    def _event_audit(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", "/api/v1/audits", data)

    def _event_appeal(self, data: dict[str, Any]) -> Any:
        return self._call(
            self._hospital(data),
            "POST",
            self._audit_path(data, "appeal"),
            {"reason": data.get("reason", "")},
        )

    def _event_review(self, data: dict[str, Any]) -> Any:
        return self._call(
            "operator",
            "POST",
            self._audit_path(data, "review"),
            {"amount": data["amount"], "final": data.get("final", True)},
        )

    def _event_consultation(self, data: dict[str, Any]) -> Any:
        return self._call(
            "operator", "POST", self._audit_path(data, "consultation"), {"amount": data["amount"]}
        )

    def _event_procurement_advance(self, data: dict[str, Any]) -> Any:
        response = self._call("operator", "POST", "/api/v1/procurement-advances", data)
        if response.status_code == 201:
            # paid to the suppliers from the expenditure account, at the bank's counter
            code = data["fixmedins_code"]
            self._bank_moves(
                self.institutions[code].region,
                data["insutype"],
                "DEBIT",
                data["amount"],
                data["reference"],
                "药耗招采垫付",
            )
        return response

    def _event_assessment(self, data: dict[str, Any]) -> Any:
        return self._call("operator", "POST", "/api/v1/annual/assessments", data)

    def _event_repayment(self, data: dict[str, Any]) -> Any:
        code = data["fixmedins_code"]
        region = self.institutions[code].region if code in self.institutions else "000000"
        response = self._call(
            "accountant",
            "POST",
            f"/api/v1/receivables/{region}/{data['insutype']}/{code}/repayments",
            {"amount": data["amount"], "receipt_no": data["receipt_no"]},
        )
        if response.status_code == 201:
            institution = self.institutions[code]
            self._bank_moves(
                region,
                data["insutype"],
                "CREDIT",
                data["amount"],
                data["receipt_no"],
                "医疗机构退回款",
                (institution.bank_account, institution.bank_account_name),
            )
        return response

    def _event_appropriation(self, data: dict[str, Any]) -> Any:
        reference = data.get("reference") or f"SCENARIO-EVENT-{self.current_index}"
        response = self._call(
            "accountant",
            "POST",
            f"/api/v1/fund-ledgers/{data['region']}/{data['insutype']}/appropriations",
            {"amount": data["amount"], "reference": reference},
        )
        if response.status_code == 201:
            self._bank_moves(
                data["region"], data["insutype"], "CREDIT", data["amount"], reference, "基金划入"
            )
        return response

    def _bank_moves(
        self,
        region: str,
        insutype: str,
        direction: str,
        amount: str,
        reference: str,
        summary: str,
        counterparty: tuple[str, str] = ("", ""),
    ) -> None:
        """Money the service recorded that moves on the expenditure account without an
        instruction: the bank books it too (the outside world's side of the event)."""
        self.bank.transfer(
            account=_expenditure_account(region, insutype),
            direction=direction,
            amount=amount,
            business_ref=reference,
            counterparty_account=counterparty[0],
            counterparty_name=counterparty[1],
            summary=summary,
        )
