"""The service as its own process for the kill tests: `fundledger serve`'s app (create_app,
uvicorn, the HTTP bank gateway, settings from FUNDLEDGER_* variables, failpoints from
FUNDLEDGER_FAILPOINTS) on a clock the test moves: the instant written in a file.

    python -m tests.support.fault_service --port 8123 --clock-file /tmp/now [--standby]

`--standby` prepares everything (imports, settings, the app: the seconds a start costs),
then waits for one line on its standard input, the failpoints to arm, before it listens:
the kill test keeps one ready to take over the moment the service dies.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

import uvicorn

from app import failpoints
from app.bank.gateway import HttpBankGateway
from app.clock import SimulatedClock
from app.config import get_settings
from app.main import create_app


class FileClock:
    """now() is the offset-aware instant in the file (the test writes it before each step)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        moment = datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        assert moment.tzinfo is not None
        return moment


class SharedClock(SimulatedClock):
    """The test's clock: every move is written to the file the service reads."""

    def __init__(self, start: datetime, path: Path) -> None:
        super().__init__(start)
        self.path = path
        self._write()

    def _write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(self.now().isoformat(), encoding="utf-8")
        temporary.replace(self.path)  # the service never reads half a line

    def set(self, moment: datetime) -> None:
        super().set(moment)
        self._write()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clock-file", type=Path, required=True)
    parser.add_argument("--standby", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    clock = FileClock(args.clock_file)
    gateway = HttpBankGateway(
        settings.bank_url,
        secret=settings.bank_secret,
        bank_id=settings.bank_id,
        clock=clock,
        connect_timeout_s=settings.bank_connect_timeout_s,
        read_timeout_s=settings.bank_read_timeout_s,
    )
    app = create_app(settings, clock=clock, bank_gateway=gateway)
    if args.standby:
        line = sys.stdin.readline()
        if not line:
            return  # the test ended without needing it
        failpoints.arm(line.strip())
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
