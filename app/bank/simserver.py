"""The bank simulator as a server: on a free port in a thread (tests, the scenario runner) or
on its own (`fundledger bank-sim`, the demo), delivering its callbacks once a second."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import uvicorn

from app.bank.simdata import SimFaults, SimOptions
from app.bank.simulator import BankSimulator
from app.clock import SystemClock


def serve_in_thread(app: Any, host: str = "127.0.0.1") -> tuple[str, Callable[[], None]]:
    """Run an ASGI app under uvicorn in a daemon thread on a free port: (base url, stop)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the simulator did not start"

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://{host}:{port}", stop


def serve_forever(
    *,
    host: str,
    port: int,
    secret: str,
    failure_rate: float = 0.0,
    delay_minutes: int = 1,
    faults: SimFaults | None = None,
) -> None:
    """`fundledger bank-sim`: the simulator on the real clock, delivering its callbacks to
    each instruction's callback_url once a second."""
    sim = BankSimulator(
        secret=secret,
        clock=SystemClock(),
        options=SimOptions(
            failure_rate=failure_rate, delay_minutes=delay_minutes, faults=faults or SimFaults()
        ),
    )
    stop = threading.Event()

    def deliver_loop() -> None:
        with httpx.Client(timeout=10) as client:

            def post(url: str, headers: dict[str, str], body: bytes) -> int:
                try:
                    return client.post(url, content=body, headers=headers).status_code
                except httpx.HTTPError:
                    return 0

            while not stop.wait(1.0):
                sim.deliver_due(post)

    threading.Thread(target=deliver_loop, daemon=True).start()
    try:
        uvicorn.run(sim.app, host=host, port=port, log_level="warning")
    finally:
        stop.set()
