"""The bundled bank simulator: the bank's side of the protocol (API.md), as a real HTTP app.

It verifies signatures, is idempotent on the instruction id (same id and body: the first
answer; another body: 409), answers status queries, and delivers signed callbacks by rules:
the scenario's `bank` rules, a seeded random failure rate, delays, duplicate and
out-of-order deliveries, dropped callbacks (only a status query then tells), stalls and 5xx
answers for the adversarial tests, and a seeded random mix of faults (SimFaults: timeouts,
500s, slow answers, failed status queries, callbacks duplicated, reordered and delayed by
hours) for the soak test. It keeps its state in memory and uses its own clock.

It also keeps the books of each account it pays from: a payment is booked (debit) at its
result, a return (退票) is booked back (credit) when it happens, and money moved on an account
by something other than an instruction (the treasury's appropriation, a hospital's repayment,
an advance paid at the counter) is booked through `transfer`. From these bookings it serves the
end-of-day statement of each working day (对账单, docs/bank-statements.md) once the day is over.

Its state and options are in `app/bank/simdata.py`, its servers in `app/bank/simserver.py`, its
in-process `BankGateway` in `app/bank/simgateway.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.bank import signing
from app.bank.simbooks import AccountBooks
from app.bank.simdata import Booking, Delivery, SimOptions, SimPayment
from app.clock import Clock, at_shanghai, business_date
from app.workdays.rules import WorkCalendar

REQUEST_BODY_MAX = 64 * 1024
RETURN_TIME = clock_time(10, 0)
NAME_MISMATCH = "NAME_MISMATCH"
NAME_MISMATCH_REASON = "收款人户名与账号不符（户名校验未通过）"


class BankSimulator(AccountBooks):
    def __init__(
        self,
        *,
        secret: str,
        clock: Clock,
        calendar: WorkCalendar | None = None,
        options: SimOptions | None = None,
    ) -> None:
        self.secret = secret
        self.clock = clock
        self.calendar = calendar or WorkCalendar()
        self.options = options or SimOptions()
        self.random = random.Random(self.options.seed)  # noqa: S311 - seeded simulation
        # the faults draw from their own sequence: the payments' fates stay those without
        self.fault_random = random.Random(self.options.faults.seed)  # noqa: S311
        self.faults_seen: dict[str, int] = {}
        self.payments: dict[str, SimPayment] = {}
        self.deliveries: list[Delivery] = []
        self.delivered: list[dict[str, Any]] = []
        self.requests_received = 0
        self.stall_next_s = 0.0  # the next POST sleeps this long before answering
        self.fail_next = 0  # the next N requests answer 500 (after recording the payment)
        self._lock = threading.Lock()
        self._counter = 0
        self.bookings: list[Booking] = []
        self._serials = 0  # its own counter: event ids keep their numbers
        # Event ids and receipt numbers stay unique across restarts of a simulator (an inbox
        # remembers event ids): they carry the moment this instance started, by its clock.
        self._instance = f"{clock.now():%y%m%d%H%M%S}"
        self.app = self._build_app()

    # -- protocol ------------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="bank simulator", docs_url=None, redoc_url=None)

        @app.post("/payments")
        async def create(request: Request) -> JSONResponse:
            body = await request.body()
            response, stall = self.payment_answer(dict(request.headers), body)
            if stall:
                await asyncio.sleep(stall)  # answers late; other requests go on meanwhile
            return response

        @app.get("/payments/{instruction_id}")
        async def status(instruction_id: str, request: Request) -> JSONResponse:
            return self.status_answer(dict(request.headers), instruction_id)

        @app.get("/statements/{account}/{day}")
        async def statement(account: str, day: str, request: Request) -> JSONResponse:
            return self.statement_answer(dict(request.headers), account, day)

        @app.post("/transfers")
        async def transfer(request: Request) -> JSONResponse:
            body = await request.body()
            refused = self._verify(dict(request.headers), body)
            if refused is not None:
                return refused
            try:
                fields = json.loads(body)
                booking = self.transfer(**fields)
            except (ValueError, TypeError, KeyError) as error:
                return JSONResponse({"error": f"malformed transfer: {error}"}, status_code=400)
            return JSONResponse({"bank_serial": booking.bank_serial}, status_code=201)

        return app

    # -- the answers, the same over HTTP and in-process (app/bank/simgateway.py) --------------

    def payment_answer(self, headers: dict[str, str], body: bytes) -> tuple[JSONResponse, float]:
        """POST /payments: the answer, and how long the bank takes to give it (seconds)."""
        return self._create(headers, body)

    def status_answer(self, headers: dict[str, str], instruction_id: str) -> JSONResponse:
        """GET /payments/{instruction_id}."""
        return self._status(headers, instruction_id)

    def statement_answer(self, headers: dict[str, str], account: str, day: str) -> JSONResponse:
        """GET /statements/{account}/{day}."""
        refused = self._verify(headers, b"")
        if refused is not None:
            return refused
        try:
            statement_date = date.fromisoformat(day)
        except ValueError:
            return JSONResponse({"error": "date is YYYY-MM-DD"}, status_code=400)
        code, body = self.statement(account, statement_date)
        return JSONResponse(body, status_code=code)

    def _verify(self, headers: dict[str, str], body: bytes) -> JSONResponse | None:
        try:
            signing.verify([self.secret], headers, body, self.clock.now())
        except signing.SignatureError as error:
            return JSONResponse({"error": str(error)}, status_code=401)
        return None

    def _create(self, headers: dict[str, str], body: bytes) -> tuple[JSONResponse, float]:
        if len(body) > REQUEST_BODY_MAX:
            return JSONResponse({"error": "too large"}, status_code=413), 0.0
        refused = self._verify(headers, body)
        if refused is not None:
            return refused, 0.0
        try:
            request = json.loads(body)
            instruction_id = request["instruction_id"]
            amount = request["amount"]
            assert isinstance(amount, str)
        except (ValueError, KeyError, AssertionError):
            return JSONResponse({"error": "malformed instruction"}, status_code=400), 0.0
        if headers.get("idempotency-key") != instruction_id:
            return JSONResponse({"error": "Idempotency-Key differs"}, status_code=400), 0.0
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            self.requests_received += 1
            fault = self._payment_fault()
            if fault == "error_before":  # the bank never took it
                return JSONResponse({"error": "internal error"}, status_code=500), 0.0
            existing = self.payments.get(instruction_id)
            if existing is not None:
                if existing.body_hash != digest:
                    return JSONResponse(
                        {"error": "another body under this id"}, status_code=409
                    ), 0.0
                answer = {"instruction_id": instruction_id, "status": "ACCEPTED"}
            else:
                self._accept(instruction_id, request, digest)
                answer = {"instruction_id": instruction_id, "status": "ACCEPTED"}
            stall, self.stall_next_s = self.stall_next_s, 0.0
            fail = self.fail_next > 0 or fault == "error_after"
            self.fail_next = max(0, self.fail_next - 1)
            if fault == "timeout":
                stall = max(stall, self.options.faults.timeout_s)
            elif fault == "slow":
                stall = max(stall, self.options.faults.slow_s)
        if fail:
            return JSONResponse({"error": "internal error"}, status_code=500), stall
        return JSONResponse(answer, status_code=202), stall

    def _status(self, headers: dict[str, str], instruction_id: str) -> JSONResponse:
        refused = self._verify(headers, b"")
        if refused is not None:
            return refused
        with self._lock:
            if self._draw("query_error", self.options.faults.query_error_rate):
                return JSONResponse({"error": "internal error"}, status_code=500)
            payment = self.payments.get(instruction_id)
            if payment is None:
                return JSONResponse({"error": "unknown instruction"}, status_code=404)
            now = self.clock.now()
            status = payment.status_at(now)
            body: dict[str, Any] = {
                "instruction_id": instruction_id,
                "status": status,
                "amount": payment.request["amount"],
            }
            if status in ("SUCCESS", "RETURNED"):
                body["receipt"] = payment.receipt
            if status == "FAILED":
                body["failure"] = payment.failure
            if status == "RETURNED":
                body["return"] = {"code": "RETURNED", "reason": payment.return_reason}
        return JSONResponse(body, status_code=200)

    # -- faults --------------------------------------------------------------------------------

    def _draw(self, kind: str, rate: float) -> bool:
        """A seeded draw (under the lock); counts the faults that happened."""
        if not rate or self.fault_random.random() >= rate:
            return False
        self.faults_seen[kind] = self.faults_seen.get(kind, 0) + 1
        return True

    def _payment_fault(self) -> str | None:
        faults = self.options.faults
        if self._draw("error", faults.error_rate):
            return "error_after" if self.fault_random.random() < 0.5 else "error_before"
        if self._draw("timeout", faults.timeout_rate):
            return "timeout"
        if self._draw("slow", faults.slow_rate):
            return "slow"
        return None

    # -- decisions -----------------------------------------------------------------------------

    @staticmethod
    def describe(instruction_id: str) -> dict[str, str]:
        """kind, insutype and institution from an id like D260306-6401310-H001[-R1]; a
        payment to a person, P260817-6401610-42, is kind `person` (its third part is the
        person payment's number)."""
        parts = instruction_id.split("-")
        kinds = {"D": "daily", "M": "monthly", "A": "annual", "J": "assistance", "P": "person"}
        kind = kinds.get(parts[0][:1], "daily")
        return {"kind": kind, "insutype": parts[1][-3:], "fixmedins_code": parts[2]}

    def _rule_for(self, instruction_id: str, pay_date: str) -> dict[str, Any] | None:
        facts = {**self.describe(instruction_id), "pay_date": pay_date}
        for rule in self.options.rules:
            keys = ("fixmedins_code", "insutype", "kind", "pay_date")
            if all(rule[key] == facts[key] for key in keys if key in rule):
                return rule
        return None

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def open_account(self, account: str, holder: str) -> None:
        """The bank knows this account and its holder's name (户名校验)."""
        with self._lock:
            self.options.accounts[account] = holder

    def _name_mismatch(self, request: dict[str, Any]) -> bool:
        holder = self.options.accounts.get(str(request.get("payee_account")))
        return holder is not None and holder != request.get("payee_name")

    def _accept(self, instruction_id: str, request: dict[str, Any], digest: str) -> None:
        now = self.clock.now()
        today = business_date(now)
        result_at = now + timedelta(minutes=self.options.delay_minutes)
        rule = self._rule_for(instruction_id, today.isoformat())
        status = "SUCCESS"
        if self._name_mismatch(request):
            status = "FAILED"
            rule = {"code": NAME_MISMATCH, "reason": NAME_MISMATCH_REASON}
        elif rule is not None and rule.get("status") == "FAILED":
            status = "FAILED"
        elif (
            rule is None
            and self.options.failure_rate
            and self.random.random() < self.options.failure_rate
        ):
            status = "FAILED"
            rule = {"reason": "收款账户状态异常"}
        payment = SimPayment(
            instruction_id=instruction_id,
            request=request,
            body_hash=digest,
            received_at=now,
            final_status=status,
            result_at=result_at,
        )
        if status == "SUCCESS":
            number = self._next()
            payment.receipt = {
                "receipt_no": f"HD{today:%Y%m%d}{self._instance}{number:06d}",
                "bank_serial": f"SN{number:012d}",
                "paid_at": result_at.isoformat(),
                "payer_account": request.get("payer_account"),
                "payee_account": request.get("payee_account"),
                "amount": request["amount"],
            }
            self._book_payment(payment, "DEBIT", result_at, payment.receipt["bank_serial"])
            if rule is not None and rule.get("status") == "RETURNED":
                day = self.calendar.nth_after(today, int(rule.get("return_after", 1)))
                payment.return_at = at_shanghai(day, RETURN_TIME)
                payment.return_reason = rule.get("reason", "收款账户已销户")
                self._book_payment(payment, "CREDIT", payment.return_at, self._serial())
        else:
            payment.failure = {
                "code": (rule or {}).get("code", "ACCOUNT_ERROR"),
                "reason": (rule or {}).get("reason", "收款失败"),
            }
        self.payments[instruction_id] = payment
        url = request.get("callback_url", "")
        self._schedule(result_at, url, self._event(payment, status))
        if payment.return_at is not None:
            self._schedule(payment.return_at, url, self._event(payment, "RETURNED"))

    def _event(self, payment: SimPayment, status: str) -> dict[str, Any]:
        event: dict[str, Any] = {
            "event_id": f"EVT-{self._instance}-{self._next():08d}",
            "instruction_id": payment.instruction_id,
            "status": status,
            "amount": payment.request["amount"],
            "payee_account": payment.request.get("payee_account"),
            "receipt": payment.receipt if status in ("SUCCESS", "RETURNED") else None,
            "failure": payment.failure if status == "FAILED" else None,
        }
        if status == "RETURNED":
            event["failure"] = {"code": "RETURNED", "reason": payment.return_reason}
        return event

    def _schedule(self, due: datetime, url: str, event: dict[str, Any]) -> None:
        if self.options.drop_callbacks:
            return
        faults = self.options.faults
        copies = 2 if self.options.duplicate_deliveries else 1
        if self._draw("duplicate", faults.duplicate_rate):
            copies += 1
        for _ in range(copies):
            late = timedelta(0)
            if faults.delay_hours_max and self._draw("delay", 0.5):
                late = timedelta(hours=self.fault_random.uniform(0, faults.delay_hours_max))
            self.deliveries.append(Delivery(due + late, self._next(), url, event))

    # -- delivery ------------------------------------------------------------------------------

    def next_delivery(self) -> datetime | None:
        with self._lock:
            return min((d.due for d in self.deliveries), default=None)

    def signed(self, event: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        headers = signing.headers(self.secret, event["event_id"], self.clock.now(), body)
        headers["content-type"] = "application/json"
        return headers, body

    def deliver_due(
        self, post: Callable[[str, dict[str, str], bytes], int]
    ) -> list[tuple[str, int]]:
        """POST every callback due by now (signed now); returns (event id, HTTP status)."""
        now = self.clock.now()
        with self._lock:
            due = sorted(d for d in self.deliveries if d.due <= now)
            self.deliveries = [d for d in self.deliveries if d.due > now]
        if self.options.reverse_order:
            due.reverse()
        if self.options.faults.reorder and len(due) > 1:
            with self._lock:
                self.fault_random.shuffle(due)
                self.faults_seen["reorder"] = self.faults_seen.get("reorder", 0) + 1
        results = []
        for delivery in due:
            headers, body = self.signed(delivery.event)
            status = post(delivery.url, headers, body)
            self.delivered.append({**delivery.event, "http_status": status})
            results.append((delivery.event["event_id"], status))
        return results
