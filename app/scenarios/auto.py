"""The automatic actions of a scenario's actors: approve, confirm, declare, reconcile (moved out of
app/scenarios/runner.py as they were)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

from app.clock import business_date as date_of
from app.clock import period_add
from app.money import yuan
from app.scenarios.base import (
    APPROVE_AT,
    CONFIRM_AT,
    DECLARE_AT,
    DECLARE_DEADLINE_DAY,
    DECLARE_FROM_DAY,
    LIST_LIMIT,
    RECONCILE_AT,
    RunnerBase,
)


class AutoActions(RunnerBase):
    """The actors' automatic actions at their fixed times."""

    def _auto(self, local: time, today: date) -> None:
        auto = self.scenario.auto
        working = self.calendar.is_working(today)
        if working and local == APPROVE_AT and auto.approve:
            self._auto_approve(today)
        if working and local == DECLARE_AT and auto.declare:
            self._auto_declare(today)
        if working and local == CONFIRM_AT and auto.confirm:
            self._auto_confirm(today)
        if local == RECONCILE_AT and auto.reconcile:
            self._auto_reconcile()

    def _pages(self, actor: str, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            query = {**params, "limit": LIST_LIMIT, **({"cursor": cursor} if cursor else {})}
            response = self.client.get(path, params=query, headers=self.headers[actor])
            if response.status_code != 200:
                return
            page = response.json()
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _auto_approve(self, today: date) -> None:
        if self.waiting["batches"]:
            left = 0
            for batch in list(
                self._pages("accountant", "/api/v1/daily-batches", {"status": "PUSHED"})
            ):
                if date_of(datetime.fromisoformat(batch["pushed_at"])) > today:
                    left += 1
                    continue
                path = f"/api/v1/daily-batches/{batch['id']}/approve"
                if self._call("accountant", "POST", path).json().get("status") == "PUSHED":
                    self._call("accountant2", "POST", path)
            self.waiting["batches"] = left > 0
        for flag, status, stamp in (
            ("confirmed", "CONFIRMED", "confirmed_at"),
            ("failed", "FAILED", "payment_result_at"),
        ):
            if not self.waiting[flag]:
                continue
            left = 0
            for path in self._document_paths():
                for document in list(self._pages("accountant", path, {"status": status})):
                    if date_of(datetime.fromisoformat(document[stamp])) < today:
                        self._call("accountant", "POST", f"{path}/{document['id']}/approve")
                    else:
                        left += 1
            self.waiting[flag] = left > 0
        if self.scenario.has_assistance:
            self._auto_approve_person_payments(today)

    def _auto_approve_person_payments(self, today: date) -> None:
        """SCENARIOS.md "Assistance": each payment to a person is approved at 09:00 on the first
        working day after it was recorded; one the bank failed is re-approved as a failed
        document is (the next working day's 09:00)."""
        path = "/api/v1/assistance/person-payments"
        for status in ("PENDING_APPROVAL", "FAILED"):
            for payment in list(self._pages("accountant", path, {"status": status})):
                if date_of(datetime.fromisoformat(payment["recorded_at"])) < today:
                    self._call("accountant", "POST", f"{path}/{payment['id']}/approve")

    def _document_paths(self) -> tuple[str, ...]:
        """The lists of payable documents the hospitals confirm and the accountants approve:
        monthly statements, annual clearings and, where the scenario plays the assistance fund,
        assistance statements (SCENARIOS.md "Assistance": `auto` acts on them alike)."""
        paths: tuple[str, ...] = ("/api/v1/statements", "/api/v1/annual/clearings")
        if self.scenario.has_assistance:
            paths += ("/api/v1/assistance/statements",)
        return paths

    def _auto_confirm(self, today: date) -> None:
        if not self.waiting["computed"]:
            return
        left = 0
        for path in self._document_paths():
            for document in list(self._pages("accountant", path, {"status": "COMPUTED"})):
                if date_of(datetime.fromisoformat(document["computed_at"])) < today:
                    response = self._call(
                        document["fixmedins_code"], "POST", f"{path}/{document['id']}/confirm", {}
                    )
                    if response.status_code == 200:
                        self.waiting["confirmed"] = True
                else:
                    left += 1
        self.waiting["computed"] = left > 0

    def _auto_declare(self, today: date) -> None:
        """09:00 on working days from the 10th of M+1 (on or after) until the deadline: each
        institution declares its next period, activity or not, until it is accepted."""
        first = self.scenario.first_period()
        for institution in self.scenario.institutions:
            for insutype in institution.insutypes:
                key = (institution.code, insutype)
                period = period_add(self.declared[key], 1) if key in self.declared else first
                following = date.fromisoformat(f"{period_add(period, 1)}-01")
                opens = self.calendar.on_or_after(following.replace(day=DECLARE_FROM_DAY))
                deadline = self.calendar.on_or_after(following.replace(day=DECLARE_DEADLINE_DAY))
                if not opens <= today <= deadline:
                    continue
                response = self._call(
                    institution.code,
                    "POST",
                    "/api/v1/declarations",
                    {"fixmedins_code": institution.code, "insutype": insutype, "period": period},
                )
                if response.status_code in (200, 201):
                    self.declared[key] = period

    def _auto_reconcile(self) -> None:
        for key in sorted(self.dirty_days):
            code, insutype, day = key
            count, fund = self.own_totals[key]
            self._call(
                code,
                "POST",
                "/api/v1/reconciliations",
                {
                    "fixmedins_code": code,
                    "insutype": insutype,
                    "setl_date": day.isoformat(),
                    "count": count,
                    "fund_amount": yuan(fund),
                },
            )
        self.dirty_days.clear()
