"""The load bench's pure parts (bench/load.py): percentiles, the mix's schedule, the summary,
the breaking point, the requests it builds. No server, no database, no timing."""

import json
import math
from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise

import pytest

from app.bank import signing
from app.config import DEV_BANK_SECRET
from bench.load import (
    MIX,
    Fixture,
    Floor,
    Requests,
    Sample,
    breaking_point,
    broken,
    kind_counts,
    mix_cpu_ms,
    percentile,
    schedule,
    summarize,
)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 51) == 3.0
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize("total", [0, 1, 7, 100, 1499, 1500, 15000])
def test_kind_counts_add_up_and_follow_the_shares(total: int) -> None:
    counts = kind_counts(total, MIX)
    assert sum(counts.values()) == total
    weight = sum(MIX.values())
    for kind, share in MIX.items():
        assert abs(counts[kind] - total * share / weight) < 1


def test_the_schedule_is_open_loop_at_a_constant_rate_in_the_mix() -> None:
    plan = schedule(50, 30, MIX, seed=3)
    assert len(plan) == 1500
    offsets = [offset for offset, _ in plan]
    assert offsets[0] == 0
    assert all(b - a == pytest.approx(1 / 50) for a, b in pairwise(offsets))
    assert offsets[-1] < 30
    assert Counter(kind for _, kind in plan) == {
        "upload": 1050,
        "list_settlements": 120,
        "list_settlements_filtered": 75,
        "list_daily_lines": 75,
        "list_statements": 30,
        "list_batches": 30,
        "list_instructions": 45,
        "callback": 75,
    }
    assert schedule(50, 30, MIX, seed=3) == plan  # reproducible
    assert [k for _, k in schedule(50, 30, MIX, seed=4)] != [k for _, k in plan]  # shuffled
    first_second = Counter(kind for offset, kind in plan if offset < 10)
    assert 0.6 < first_second["upload"] / 500 < 0.8  # spread, not in blocks


def _samples(kind: str, n: int, latency_s: float, outcome: int = 200) -> list[Sample]:
    """n answers spread evenly over a level of 10 s."""
    return [Sample(kind, outcome, latency_s, (i + 1) * 10 / n) for i in range(n)]


def test_summary_counts_errors_by_status_and_expected_statuses_per_kind() -> None:
    samples = (
        _samples("upload", 90, 0.02, 201)
        + _samples("upload", 3, 0.5, 500)
        + _samples("upload", 1, 0.01, 200)  # a replay: not what a unique upload expects
        + _samples("list_settlements", 10, 0.01)
        + [Sample("callback", "dropped", None, None), Sample("callback", 200, 0.03, 1.0)]
    )
    level = summarize(10, 10, samples)
    upload = next(k for k in level.kinds if k.kind == "upload")
    assert (upload.count, upload.ok, upload.errors) == (94, 90, {"200": 1, "500": 3})
    assert level.total.count == 106 and level.total.ok == 101
    assert level.total.errors == {"200": 1, "500": 3, "dropped": 1}
    assert upload.max_ms == pytest.approx(500)
    assert upload.p50_ms == pytest.approx(20)
    assert level.total.achieved_per_s == pytest.approx(101 / 10)  # at least the level's length
    assert [k.kind for k in level.kinds][:2] == ["upload", "list_settlements"]


def test_a_level_holds_or_breaks_for_its_reasons() -> None:
    fine = summarize(10, 10, _samples("list_settlements", 100, 0.05))
    assert broken(fine, 1000) == []
    slow = summarize(10, 10, _samples("list_settlements", 100, 1.5))
    assert broken(slow, 1000) == ["p99 1,500 ms > 1,000 ms"]
    failing = summarize(
        10,
        10,
        [
            *_samples("list_settlements", 99, 0.05),
            Sample("list_settlements", "timeout", 10.0, 10.0),
        ],
    )
    assert any(reason.startswith("1 errors (timeout: 1)") for reason in broken(failing, 20_000))
    short = summarize(10, 10, _samples("list_settlements", 50, 0.05))  # half of the target
    assert broken(short, 1000) == ["achieved 5.0/s < 95% of 10/s"]


def test_the_breaking_point_is_the_lowest_rate_that_broke() -> None:
    held = summarize(50, 10, _samples("list_settlements", 500, 0.05))
    broke_200 = summarize(200, 10, _samples("list_settlements", 2000, 2.0))
    broke_500 = summarize(500, 10, _samples("list_settlements", 5000, 3.0))
    assert breaking_point([broke_500, held, broke_200], 1000) == (
        200,
        ["p99 2,000 ms > 1,000 ms"],
    )
    assert breaking_point([held], 1000) is None


def test_requests_are_unique_uploads_spread_over_hospitals_and_signed_callbacks() -> None:
    def event(n: int) -> bytes:
        return json.dumps({"event_id": f"EVT-{n}", "instruction_id": f"D-{n}"}).encode()

    fixture = Fixture(
        codes=["H0000", "H0001", "H0002"],
        tokens={"H0000": "t0", "H0001": "t1", "H0002": "t2"},
        staff_token="staff",
        history_days=[],
        fresh=[event(1), event(2)],
        delivered=[event(0)],
        counts={},
    )
    requests = Requests(fixture, tag="T")
    uploads = [requests.build("upload") for _ in range(6)]
    bodies = [json.loads(body or b"") for _, _, _, body in uploads]
    assert len({(b["fixmedins_code"], b["setl_id"]) for b in bodies}) == 6
    assert Counter(b["fixmedins_code"] for b in bodies) == {"H0000": 2, "H0001": 2, "H0002": 2}
    for (_, path, headers, _), body in zip(uploads, bodies, strict=True):
        assert path == "/api/v1/settlements"
        assert headers["Authorization"] == f"Bearer {fixture.tokens[body['fixmedins_code']]}"
    callbacks = [requests.build("callback") for _ in range(8)]
    sent = [body for _, _, _, body in callbacks]
    assert event(1) in sent and event(2) in sent  # every fresh result delivered once…
    assert sent.count(event(1)) + sent.count(event(2)) >= 2
    assert set(sent) <= {event(0), event(1), event(2)}  # …and the rest replays
    assert sent.index(event(1)) < sent.index(event(2))
    for method, path, headers, body in callbacks:
        assert (method, path) == ("POST", "/api/v1/bank/receipts")
        assert body is not None
        event_id = signing.verify([DEV_BANK_SECRET], headers, body, datetime.now(UTC))
        assert event_id == json.loads(body)["event_id"]


def test_the_mix_cpu_weights_each_kind_by_its_share() -> None:
    floors = [Floor(kind, 10, 1.0, 2.0, 10.0 if kind == "upload" else 2.0) for kind in MIX]
    assert mix_cpu_ms(floors, MIX) == pytest.approx(0.70 * 10.0 + 0.30 * 2.0)
