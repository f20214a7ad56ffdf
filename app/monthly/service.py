"""The monthly domain's entry points used by other domains and jobs (bank, submission)."""

from __future__ import annotations

from app.monthly.statements import on_payment_result, submit_due

__all__ = ["on_payment_result", "submit_due"]
