"""Failures grouped by reason, and slots counted the way the scheduler sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Schedule
from wfmon.reports.expected import count_slots
from wfmon.reports.failures import NO_TEXT, group_failures, normalise_error
from wfmon.scheduler.cron import slots_between
from wfmon.storage.stats import ErrorCount

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
F, E = ExecutionStatus.FAILED, ExecutionStatus.ERROR

NORMALISED = [
    # (id, error text, reason)
    ("numbers", "cart: expected == 200, got 503", "cart: expected == <n>, got <n>"),
    ("decimals", "latency 1234.5 ms over 1000 ms", "latency <n> ms over <n> ms"),
    (
        "a uuid",
        "order 9f1c2a3b-1d2e-4f5a-8b9c-0123456789ab not found",
        "order <id> not found",
    ),
    ("a hex token", "session 8f3a9c2e77 expired", "session <id> expired"),
    ("an id after an underscore", "no such user req_8f3a9c2e", "no such user req_<id>"),
    (
        "a long token",
        "bad token eyJhbGciOiJIUzI1NiJ9abc",
        "bad token <id>",
    ),
    (
        "a timestamp",
        "stale since 2026-03-01T12:00:05.123Z, retry",
        "stale since <time>, retry",
    ),
    ("words stay", "connection refused", "connection refused"),
    ("hex-looking words stay", "deadbeef in facade", "deadbeef in facade"),
    ("spaces collapse", "a\n  b\tc", "a b c"),
    ("no text", None, NO_TEXT),
    ("blank text", "  ", NO_TEXT),
]


@pytest.mark.parametrize(("case", "text", "reason"), NORMALISED, ids=[c[0] for c in NORMALISED])
def test_it_normalises_ids_times_and_numbers(case: str, text: str | None, reason: str) -> None:
    assert normalise_error(text) == reason


def test_a_very_long_reason_is_cut() -> None:
    reason = normalise_error("x" * 1000)

    assert len(reason) == 300
    assert reason.endswith("…")


def error(
    workflow: str, status: ExecutionStatus, text: str | None, count: int, minute: int
) -> ErrorCount:
    return ErrorCount(workflow, status, text, count, T0 + timedelta(minutes=minute))


def test_it_merges_texts_with_the_same_reason_per_workflow_and_status() -> None:
    groups = group_failures(
        [
            error("checkout", F, "order 4711 not found", 2, 5),
            error("checkout", F, "order 4712 not found", 3, 9),
            error("checkout", E, "order 4713 not found", 1, 7),  # another status: apart
            error("checkout", F, "connection refused", 4, 1),
            error("search", F, "order 1 not found", 1, 3),  # another workflow: apart
        ]
    )

    checkout = groups["checkout"]
    assert [(g.status, g.reason, g.count) for g in checkout] == [
        (F, "order <n> not found", 5),
        (F, "connection refused", 4),
        (E, "order <n> not found", 1),
    ]
    # The newest original text is kept as the example.
    assert (checkout[0].example, checkout[0].last_at) == (
        "order 4712 not found",
        T0 + timedelta(minutes=9),
    )
    assert [g.count for g in groups["search"]] == [1]


def test_equal_counts_show_the_most_recent_first() -> None:
    groups = group_failures(
        [error("w", F, "old", 2, 1), error("w", F, "new", 2, 8), error("w", F, "mid", 2, 4)]
    )

    assert [g.reason for g in groups["w"]] == ["new", "mid", "old"]


SLOTS = [
    # (id, schedule, after, until (minutes from T0))
    ("every 5 minutes for an hour", Schedule(every_s=300), 0, 60),
    ("an interval, unaligned ends", Schedule(every_s=420), 3, 61),
    ("an interval, empty", Schedule(every_s=3600), 1, 59),
    ("cron every 15 minutes", Schedule(cron="*/15 * * * *"), 0, 180),
    (
        "cron in a zone with DST",
        Schedule(cron="30 2 * * *", timezone="Europe/Berlin"),
        0,
        60 * 24 * 40,
    ),
    ("backwards", Schedule(every_s=60), 10, 5),
]


@pytest.mark.parametrize(("case", "schedule", "after", "until"), SLOTS, ids=[c[0] for c in SLOTS])
def test_it_counts_the_slots_slots_between_would_list(
    case: str, schedule: Schedule, after: int, until: int
) -> None:
    start, end = T0 + timedelta(minutes=after), T0 + timedelta(minutes=until)

    assert count_slots(schedule, start, end) == len(slots_between(schedule, start, end, 10**6))


def test_intervals_are_counted_without_walking_them() -> None:
    # A year of every-second slots: walking them would take minutes.
    assert count_slots(Schedule(every_s=1), T0, T0 + timedelta(days=365)) == 365 * 86400
