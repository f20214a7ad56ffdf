"""The service as its own process for the kill tests: `fundledger serve`'s app (create_app,
uvicorn, the HTTP bank gateway, settings from FUNDLEDGER_* variables) on a clock the test
moves (the instant written in a file), started from a zygote:

    python -m tests.support.fault_service --port 8123 --clock-file /tmp/now

The zygote imports everything once (the seconds a start of Python and the app costs), then
reads commands on its standard input: `start FAILPOINTS` forks the service (a process of its
own, with its own connections, failpoints armed) and answers `started PID`; when that process
ends the zygote answers `ended PID CODE` (`CODE` -9: killed with SIGKILL). End of input ends
the zygote. The service's output goes to the zygote's standard error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
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


def serve(port: int, clock_file: Path, points: str) -> None:
    failpoints.arm(points)
    settings = get_settings()
    clock = FileClock(clock_file)
    gateway = HttpBankGateway.from_settings(settings, clock)
    app = create_app(settings, clock=clock, bank_gateway=gateway)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clock-file", type=Path, required=True)
    args = parser.parse_args()
    for line in sys.stdin:
        command, _, points = line.strip().partition(" ")
        if command != "start":
            continue
        pid = os.fork()
        if pid == 0:  # the service
            os.dup2(2, 1)
            code = 0
            try:
                serve(args.port, args.clock_file, points)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        print(f"started {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"ended {pid} {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    main()
