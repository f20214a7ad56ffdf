from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime


class Alert(Base):
    """Something a person must look at; raised once per (kind, subject).

    Acknowledged by an operator (someone is on it) independently of being resolved (the
    condition is gone, set by the service that raised it); the first acknowledgement stands.
    """

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("kind", "subject"),
        # The open alerts in id order (home pages, GET /api/v1/alerts): not every resolved one.
        Index(
            "ix_alert_open",
            "id",
            postgresql_where=text("resolved_at IS NULL"),
            sqlite_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(String(500), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
