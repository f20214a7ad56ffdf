"""django-hordak's `transfer_to`, one commit each: the peer of bench.ledger's single post.

Runs in its OWN virtualenv (not the project's; nothing of the project imports it, and the
test suite does not collect it):

    python3 -m venv /tmp/hordak-venv
    /tmp/hordak-venv/bin/pip install django django-hordak 'psycopg[binary]'
    /tmp/hordak-venv/bin/python bench/hordak/run.py --url postgresql://postgres@127.0.0.1/DB \
        --setup
    /tmp/hordak-venv/bin/python bench/hordak/run.py --url ... --count 1000

`--setup` migrates hordak's tables into the (empty) database and creates two accounts; a run
posts `--count` transfers, each `transfer_to` in its own `transaction.atomic()` (one commit;
hordak's triggers check the legs balance), and prints the time as JSON; `--serve` runs one
count per line of stdin (`bench.ledger --hordak /tmp/hordak-venv/bin/python` drives it so,
in turns with its own variants).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from urllib.parse import urlparse


def configure(url: str) -> None:
    import django
    from django.conf import settings

    parts = urlparse(url)
    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": parts.path.lstrip("/"),
                "USER": parts.username or "postgres",
                "PASSWORD": parts.password or "",
                "HOST": parts.hostname or "127.0.0.1",
                "PORT": str(parts.port or 5432),
            }
        },
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "mptt",
            "hordak",
        ],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        DEFAULT_CURRENCY="CNY",
        HORDAK_CURRENCIES=["CNY"],
        CURRENCIES=["CNY"],
    )
    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--serve", action="store_true", help="read counts from stdin")
    args = parser.parse_args()
    configure(args.url)
    from django.core.management import call_command
    from django.db import transaction
    from djmoney.money import Money
    from hordak.models import Account

    if args.setup:
        call_command("migrate", verbosity=0)
        Account.objects.create(name="Bank", code="1", type=Account.TYPES.asset, currencies=["CNY"])
        Account.objects.create(
            name="Payable", code="2", type=Account.TYPES.liability, currencies=["CNY"]
        )
        print(json.dumps({"setup": True}))
        return
    bank = Account.objects.get(code="1")
    payable = Account.objects.get(code="2")

    def run(count: int) -> None:
        start = time.perf_counter()
        for i in range(count):
            with transaction.atomic():
                payable.transfer_to(bank, Money(Decimal(100 + i % 997) / 100, "CNY"))
        seconds = time.perf_counter() - start
        print(json.dumps({"count": count, "seconds": seconds}), flush=True)

    if not args.serve:
        run(args.count)
        return
    for line in sys.stdin:  # one count per line, one JSON answer per line
        run(int(line))


if __name__ == "__main__":
    main()
