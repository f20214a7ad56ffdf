from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.clock import SimulatedClock
from app.config import Settings
from app.main import create_app


@pytest.fixture
def app(session_factory: sessionmaker[Session], clock: SimulatedClock) -> FastAPI:
    settings = Settings(environment="test", database_url="sqlite://")
    return create_app(settings, session_factory=session_factory, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
