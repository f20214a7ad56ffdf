"""What a job needs: sessions, the clock, settings, the bank gateway."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock
from app.config import Settings


@dataclass
class JobContext:
    session_factory: sessionmaker[Session]
    engine: Engine
    clock: Clock
    settings: Settings
    gateway: Any = None  # app.bank.gateway.BankGateway; None: instructions stay queued
    runner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
