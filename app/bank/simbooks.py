"""The bank simulator's books of the accounts it pays from: a payment is booked at its
result, a return (退票) booked back, other money moved on an account (`transfer`) booked when it
happens; the end-of-day statement of a working day is served from them (对账单,
docs/bank-statements.md)."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

from app.bank.simdata import Booking, SimPayment
from app.clock import Clock, business_date
from app.money import to_fen, yuan
from app.workdays.rules import WorkCalendar

STATEMENT_SPAN_DAYS_MAX = 31  # a statement covers the non-working days before its date


class AccountBooks:
    """Part of `BankSimulator` (its state is set up there)."""

    clock: Clock
    calendar: WorkCalendar
    bookings: list[Booking]
    _lock: threading.Lock
    _instance: str
    _serials: int

    def _serial(self) -> str:
        self._serials += 1
        return f"SB{self._instance}{self._serials:08d}"

    def _book_payment(self, payment: SimPayment, direction: str, at: datetime, serial: str) -> None:
        request = payment.request
        self.bookings.append(
            Booking(
                account=str(request.get("payer_account", "")),
                booked_at=at,
                direction=direction,
                amount_fen=to_fen(request["amount"]),
                counterparty_account=str(request.get("payee_account", "")),
                counterparty_name=str(request.get("payee_name", "")),
                business_ref=payment.instruction_id,
                bank_serial=serial,
                summary=("退票 " if direction == "CREDIT" else "")
                + str(request.get("purpose", "")),
            )
        )

    # -- the account's books and statements ---------------------------------------------------

    def transfer(
        self,
        *,
        account: str,
        direction: str,
        amount: str,
        business_ref: str,
        counterparty_account: str = "",
        counterparty_name: str = "",
        summary: str = "",
    ) -> Booking:
        """Money moved on `account` by something other than an instruction, booked now;
        idempotent on (account, direction, business_ref)."""
        if direction not in ("DEBIT", "CREDIT"):
            raise ValueError("direction is DEBIT or CREDIT")
        amount_fen = to_fen(amount)
        if amount_fen <= 0:
            raise ValueError("amount is positive")
        with self._lock:
            for booking in self.bookings:
                if (booking.account, booking.direction, booking.business_ref) == (
                    account,
                    direction,
                    business_ref,
                ):
                    return booking
            booking = Booking(
                account=account,
                booked_at=self.clock.now(),
                direction=direction,
                amount_fen=amount_fen,
                counterparty_account=counterparty_account,
                counterparty_name=counterparty_name,
                business_ref=business_ref,
                bank_serial=self._serial(),
                summary=summary,
            )
            self.bookings.append(booking)
            return booking

    def statement(self, account: str, statement_date: date) -> tuple[int, dict[str, Any]]:
        """The end-of-day statement of a working day: every booking after the previous
        working day up to its end, with the balances (the account opened at zero). Served
        once the day is over (the bank's close); 404 on a day the bank does not work."""
        if not self.calendar.is_working(statement_date):
            return 404, {"error": "no statement on a day the bank does not work"}
        if business_date(self.clock.now()) <= statement_date:
            return 409, {"error": "the day is not closed yet"}
        previous = statement_date - timedelta(days=1)
        while not self.calendar.is_working(previous) and previous > statement_date - timedelta(
            days=STATEMENT_SPAN_DAYS_MAX
        ):
            previous -= timedelta(days=1)
        with self._lock:
            mine = [b for b in self.bookings if b.account == account]
        mine.sort(key=lambda b: (b.booked_at, b.bank_serial))

        def signed(booking: Booking) -> int:
            return booking.amount_fen if booking.direction == "CREDIT" else -booking.amount_fen

        opening = sum(signed(b) for b in mine if business_date(b.booked_at) <= previous)
        today = [b for b in mine if previous < business_date(b.booked_at) <= statement_date]
        closing = opening + sum(signed(b) for b in today)
        return 200, {
            "account": account,
            "statement_date": statement_date.isoformat(),
            "from_date": (previous + timedelta(days=1)).isoformat(),
            "currency": "CNY",
            "opening_balance": yuan(opening),
            "closing_balance": yuan(closing),
            "entries": [
                {
                    "bank_serial": b.bank_serial,
                    "direction": b.direction,
                    "amount": yuan(b.amount_fen),
                    "value_date": business_date(b.booked_at).isoformat(),
                    "counterparty_account": b.counterparty_account,
                    "counterparty_name": b.counterparty_name,
                    "business_ref": b.business_ref,
                    "summary": b.summary,
                }
                for b in today
            ],
        }
