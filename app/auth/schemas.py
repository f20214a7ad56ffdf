from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["hospital", "operator", "accountant", "auditor", "admin"]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@:-]{1,64}$")]
    role: Role
    fixmedins_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$")] | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    role: str
    fixmedins_code: str | None
    active: bool
    created_at: datetime


class TokenOut(BaseModel):
    id: int
    user: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedToken(TokenOut):
    token: str = Field(description="the bearer token: shown once, stored only as a hash")


class Me(BaseModel):
    name: str
    role: str
    fixmedins_code: str | None


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[
        str, Field(min_length=10, max_length=128, description="stored only as an argon2 hash")
    ]
