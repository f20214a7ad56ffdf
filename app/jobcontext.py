"""What a job needs: sessions, the clock, settings, the bank gateway (built by the job runner,
the command line, the scenario runner and the tests; used by the services that own their
transactions, such as the bank's send loop)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.bank.protocol import BankGateway
from app.clock import Clock
from app.config import Settings


@dataclass
class JobContext:
    session_factory: sessionmaker[Session]
    engine: Engine
    clock: Clock
    settings: Settings
    gateway: BankGateway | None = None  # None: instructions stay queued
    runner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
