"""The PostgreSQL half of `make test`: a fresh database, then every database test on it.

Outside CI a missing server skips this half with a visible reason; under CI=true it fails
(.ci/run starts a server first). The server is reached through FUNDLEDGER_TEST_PG_ADMIN_URL
(default: postgresql://postgres@127.0.0.1:5432/postgres, trust auth).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import psycopg

ADMIN_URL = os.environ.get(
    "FUNDLEDGER_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE_TESTS = ["tests/integration", "tests/api", "tests/committed", "tests/scenarios"]
CONNECT_TIMEOUT_S = 5


def main() -> int:
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        reason = f"no PostgreSQL server answers at {ADMIN_URL} ({str(exc).strip()[:120]})"
        if in_ci:
            print(f"FAILED: PostgreSQL half: {reason}", file=sys.stderr)
            return 1
        print(
            f"\n*** SKIPPED the PostgreSQL half of the suite: {reason}.\n"
            "*** Start one (see README) or set FUNDLEDGER_TEST_PG_ADMIN_URL.\n"
        )
        return 0
    name = f"fundledger_test_{os.getpid()}_{secrets.token_hex(3)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    env = dict(os.environ, FUNDLEDGER_TEST_DATABASE_URL=f"{base}/{name}")
    print(f"PostgreSQL half on database {name}")
    try:
        paths = [path for path in DATABASE_TESTS if os.path.isdir(path)]
        result = subprocess.run(  # noqa: S603 - our own interpreter and test paths
            [sys.executable, "-m", "pytest", "-q", *paths, *sys.argv[1:]], env=env, check=False
        )
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            # with the databases named after it (pytest-xdist workers' own, their templates
            # and fresh ones), which a worker that died could have left behind
            left = admin.execute(
                "SELECT datname FROM pg_database WHERE datname = %s OR starts_with(datname, %s)",
                (name, f"{name}_"),
            ).fetchall()
            for (database,) in left:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
