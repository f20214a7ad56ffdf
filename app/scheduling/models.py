from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, JSONType, UTCDateTime


class JobRun(Base):
    """One run of a scheduled job for one business date (STYLE.md 11).

    Unique on (job_name, business_date) for date-keyed jobs: a succeeded run is never
    repeated; a failed one is retried. Sweeper jobs (bank re-query) have no business date.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint("status IN ('RUNNING', 'SUCCEEDED', 'FAILED')", name="status"),
        Index("uq_job_run_job_name_business_date", "job_name", "business_date", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(40))
    business_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    runner: Mapped[str] = mapped_column(String(80))
    detail: Mapped[Any] = mapped_column(JSONType, nullable=True)
