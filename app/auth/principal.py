"""Who is calling: the current user of a request or a job (no imports of its own, so every
domain may name it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who is calling: the current user of a request or a job."""

    user_id: int | None
    name: str
    role: str
    fixmedins_code: str | None = None

    @property
    def is_hospital(self) -> bool:
        return self.role == "hospital"


SYSTEM = Principal(user_id=None, name="system", role="system")
