"""Slot maths: next slots, DST, clock jumps, jitter. No sleeps, no wall clock."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim
from hypothesis import given, settings
from hypothesis import strategies as st

from wfmon.clock import FakeClock
from wfmon.domain.workflow import Schedule
from wfmon.scheduler.cron import (
    EPOCH,
    due_slots,
    iter_slots,
    jitter_offset,
    latest_slot,
    next_slot,
    slots_between,
    start_at,
    validate_cron,
    validate_schedule,
    validate_timezone,
)

BERLIN = ZoneInfo("Europe/Berlin")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def cron(expr: str, tz: str = "UTC") -> Schedule:
    return Schedule(cron=expr, timezone=tz)


def every(seconds: float) -> Schedule:
    return Schedule(every_s=seconds)


def local_day(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The half-open local calendar day as (start, end) instants, for slots_between's (a, b]."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start - timedelta(microseconds=1), end - timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        # */15: the next quarter hour
        (cron("*/15 * * * *"), utc(2026, 5, 4, 10, 7), utc(2026, 5, 4, 10, 15)),
        # strictly after: a slot time itself gives the following slot
        (cron("*/15 * * * *"), utc(2026, 5, 4, 10, 15), utc(2026, 5, 4, 10, 30)),
        # a microsecond before a slot gives that slot
        (cron("*/15 * * * *"), utc(2026, 5, 4, 10, 14, 59, 999999), utc(2026, 5, 4, 10, 15)),
        # the last quarter of the year rolls into the next year
        (cron("*/15 * * * *"), utc(2026, 12, 31, 23, 50), utc(2027, 1, 1)),
        # 0 */4: hours 0, 4, 8, ...
        (cron("0 */4 * * *"), utc(2026, 5, 4, 1), utc(2026, 5, 4, 4)),
        # 0 */4: from 23:00 to midnight of the next day
        (cron("0 */4 * * *"), utc(2026, 5, 4, 23), utc(2026, 5, 5)),
        # every 30 s, epoch-anchored: on :00 and :30
        (every(30), utc(2026, 5, 4, 10, 0, 10), utc(2026, 5, 4, 10, 0, 30)),
        # every 30 s: strictly after
        (every(30), utc(2026, 5, 4, 10, 0, 30), utc(2026, 5, 4, 10, 1)),
        # every 7 min: 2026-01-01T00:00Z is 4,207,680 x 420 s after the epoch, a slot itself
        (every(420), utc(2026, 1, 1), utc(2026, 1, 1, 0, 7)),
        # every 7 min: midnight of 2026-01-02 is 5 min past a multiple of 420 s (23:55)
        (every(420), utc(2026, 1, 2), utc(2026, 1, 2, 0, 2)),
        # a time zone: 09:00 New York in summer (EDT, -4) is 13:00Z
        (cron("0 9 * * *", "America/New_York"), utc(2026, 7, 1), utc(2026, 7, 1, 13)),
        # the same in winter (EST, -5) is 14:00Z
        (cron("0 9 * * *", "America/New_York"), utc(2026, 1, 15), utc(2026, 1, 15, 14)),
        # a half-hour zone: the top of the hour in Kolkata (+05:30) is :30 UTC
        (cron("0 * * * *", "Asia/Kolkata"), utc(2026, 5, 4, 10), utc(2026, 5, 4, 10, 30)),
        # any aware input is fine: 12:07+02:00 is 10:07Z; the result is UTC
        (
            cron("*/15 * * * *"),
            datetime(2026, 5, 4, 12, 7, tzinfo=BERLIN),
            utc(2026, 5, 4, 10, 15),
        ),
    ],
)
def test_next_slot(schedule: Schedule, after: datetime, expected: datetime) -> None:
    got = next_slot(schedule, after)
    assert got == expected
    assert got.tzinfo is UTC


@pytest.mark.parametrize("seconds", [1, 7, 30, 420, 3600, 86400, 5400, 2.5])
def test_interval_slots_are_multiples_of_the_interval_since_the_epoch(seconds: float) -> None:
    slots = slots_between(every(seconds), utc(2026, 3, 1), utc(2026, 3, 1) + timedelta(days=2))
    period = timedelta(seconds=seconds)
    assert slots
    assert all((slot - EPOCH) % period == timedelta(0) for slot in slots)
    assert all(b - a == period for a, b in pairwise(slots))


def test_it_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_slot(cron("* * * * *"), datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        # neither cron nor interval
        (Schedule(), "exactly one"),
        # both
        (Schedule(cron="* * * * *", every_s=60), "exactly one"),
        # an interval under a second
        (Schedule(every_s=0.5), "every_s"),
        # a broken cron expression
        (Schedule(cron="61 * * * *"), "Bad minute"),
        # a broken time zone
        (Schedule(cron="* * * * *", timezone="Mars/Olympus"), "unknown time zone"),
    ],
)
def test_validate_schedule_rejects(schedule: Schedule, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_schedule(schedule)


def test_validate_schedule_accepts_good_ones() -> None:
    validate_schedule(cron("30 2 * * *", "Europe/Berlin"))
    validate_schedule(every(30))


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "has 0 fields"),  # empty
        ("* * * *", "has 4 fields"),  # too short
        ("0 * * * * *", "has 6 fields"),  # seconds field: not Debian cron, use an interval
        ("61 * * * *", "Bad minute"),  # out of range
        ("* 24 * * *", "Bad hour"),  # out of range
        ("0 0 30 2 *", "Bad day-of-month"),  # 30 February never comes
        ("0 0 * * FUNDAY", "Bad day-of-week"),  # not a day
        ("*/0 * * * *", "Bad minute"),  # a zero step
    ],
)
def test_validate_cron_rejects_with_a_clear_message(expr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_cron(expr)


@pytest.mark.parametrize(
    "expr",
    ["*/15 * * * *", "30 2 * * *", "0 9 * * MON-FRI", "0 0 L * *", "0 0 29 2 *", "0 0 * * 5#3"],
)
def test_validate_cron_accepts(expr: str) -> None:
    validate_cron(expr)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Europe/berlin", "did you mean 'Europe/Berlin'"),  # wrong case
        ("US/Pacfic", "did you mean 'US/Pacific'"),  # a typo
        ("Mars/Olympus", "IANA name"),  # nothing close
        ("", "IANA name"),  # empty
        ("/etc/passwd", "IANA name"),  # a path is not a zone
    ],
)
def test_validate_timezone_rejects_with_a_hint(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_timezone(name)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # spring forward: 02:30 does not exist; it runs once, at 03:00 CEST (cronsim's shift)
        (date(2026, 3, 29), [utc(2026, 3, 29, 1)]),
        # fall back: 02:30 happens twice; it runs once, at the first (CEST, 00:30Z)
        (date(2026, 10, 25), [utc(2026, 10, 25, 0, 30)]),
        # an ordinary summer day: 02:30 CEST
        (date(2026, 7, 1), [utc(2026, 7, 1, 0, 30)]),
    ],
)
def test_a_daily_fixed_time_job_runs_once_on_dst_days(day: date, expected: list[datetime]) -> None:
    start, end = local_day(day, BERLIN)
    assert slots_between(cron("30 2 * * *", "Europe/Berlin"), start, end) == expected


@pytest.mark.parametrize(
    ("expr", "tz"),
    [
        ("30 2 * * *", "Europe/Berlin"),  # the classic: 02:30 falls in both DST changes
        ("30 2 * * *", "America/New_York"),  # the US changes at 02:00 too
        ("0 0 * * *", "America/Santiago"),  # Chile changes at midnight
        ("45 1 * * *", "Australia/Lord_Howe"),  # a 30-minute DST shift
        ("30 1 * * *", "Antarctica/Troll"),  # a 2-hour DST shift
    ],
)
@pytest.mark.parametrize("year", [2026, 2027])
def test_a_daily_job_has_exactly_one_slot_on_every_local_day(expr: str, tz: str, year: int) -> None:
    zone = ZoneInfo(tz)
    start, _ = local_day(date(year, 1, 1), zone)
    _, end = local_day(date(year, 12, 31), zone)
    slots = slots_between(cron(expr, tz), start, end)
    days = Counter(slot.astimezone(zone).date() for slot in slots)
    expected = {date(year, 1, 1) + timedelta(days=n) for n in range(len(days))}
    assert set(days) == expected
    assert len(days) == (date(year + 1, 1, 1) - date(year, 1, 1)).days
    assert set(days.values()) == {1}


@pytest.mark.parametrize(
    ("expr", "day", "count", "gap"),
    [
        # hourly on the spring-forward day: 23 runs, an hour apart
        ("0 * * * *", date(2026, 3, 29), 23, timedelta(hours=1)),
        # hourly on the fall-back day: 25 runs; 02:00 runs in both passes
        ("0 * * * *", date(2026, 10, 25), 25, timedelta(hours=1)),
        # every 30 minutes on the fall-back day: 50 runs
        ("*/30 * * * *", date(2026, 10, 25), 50, timedelta(minutes=30)),
        # every 15 minutes on the spring-forward day: 92 runs
        ("*/15 * * * *", date(2026, 3, 29), 92, timedelta(minutes=15)),
    ],
)
def test_a_frequent_job_follows_elapsed_time_across_dst(
    expr: str, day: date, count: int, gap: timedelta
) -> None:
    start, end = local_day(day, BERLIN)
    slots = slots_between(cron(expr, "Europe/Berlin"), start, end)
    assert len(slots) == count
    assert {b - a for a, b in pairwise(slots)} == {gap}


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(
    "expr",
    ["30 2 * * *", "*/15 * * * *", "0 * * * *", "0 */4 * * *", "15,45 2 * * *", "0 1-5 * * 0"],
)
@pytest.mark.parametrize(
    ("start", "end"), [(utc(2026, 3, 1), utc(2026, 4, 15)), (utc(2026, 10, 1), utc(2026, 11, 15))]
)
def test_slots_match_cronsim_around_dst_changes(
    expr: str, tz: str, start: datetime, end: datetime
) -> None:
    # We walk wall-clock times and map them ourselves (see cron.py); the result must be what
    # cronsim gives iterating aware datetimes, wherever cronsim is self-consistent.
    expected = []
    for slot in CronSim(expr, start.astimezone(ZoneInfo(tz))):
        if slot.astimezone(UTC) > end:
            break
        expected.append(slot.astimezone(UTC))
    assert slots_between(cron(expr, tz), start, end, limit=10**6) == expected


def test_slots_do_not_depend_on_where_counting_starts_where_cronsim_does() -> None:
    # cronsim from the day before skips 04:00 (+10:30) on Lord Howe's fall-back day, but
    # finds it from 03:00 that day. Our slot must be the same from both starting points.
    zone = ZoneInfo("Australia/Lord_Howe")
    schedule = cron("0 */4 * * *", "Australia/Lord_Howe")
    four = datetime(2026, 4, 5, 4, tzinfo=zone).astimezone(UTC)
    day_before = datetime(2026, 4, 4, 12, tzinfo=zone)
    assert four in slots_between(schedule, day_before, four)
    assert next_slot(schedule, datetime(2026, 4, 5, 3, tzinfo=zone)) == four


ZONES = ["Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Antarctica/Troll"]
EXPRS = ["30 2 * * *", "0 0 * * *", "*/20 * * * *", "0 */4 * * *", "* 2 * * *", "*/30 0-3 * * *"]
# Instants near the 2026 DST changes of the zones above, where slots are easiest to get wrong.
CHANGES = [
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 4, 5, 3),
    utc(2026, 9, 6, 4),
    utc(2026, 4, 4, 15),
    utc(2026, 10, 3, 15),
    utc(2026, 10, 25, 1),
]


@settings(max_examples=300, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    expr=st.sampled_from(EXPRS),
    change=st.sampled_from(CHANGES),
    offset_s=st.integers(min_value=-6 * 3600, max_value=6 * 3600),
    lead_s=st.integers(min_value=1, max_value=30 * 3600),
)
def test_next_slot_is_the_same_whichever_point_counting_started_from(
    tz: str, expr: str, change: datetime, offset_s: int, lead_s: int
) -> None:
    schedule = cron(expr, tz)
    after = change + timedelta(seconds=offset_s)
    slot = next_slot(schedule, after)
    assert slot > after
    # Counting from an earlier point passes through the same slot...
    earlier = after - timedelta(seconds=lead_s)
    walked = slots_between(schedule, earlier, slot, limit=10**6)
    assert walked[-1] == slot
    assert [s for s in walked if s > after] == [slot]
    # ...and the slot is its own next slot from just before it.
    assert next_slot(schedule, slot - timedelta(microseconds=1)) == slot


@pytest.mark.parametrize(
    "schedule",
    [cron("*/15 * * * *", "Europe/Berlin"), cron("0 * * * *", "Australia/Lord_Howe")],
)
def test_slots_are_strictly_increasing_over_a_year_with_two_dst_changes(
    schedule: Schedule,
) -> None:
    slots = slots_between(schedule, utc(2026, 1, 1), utc(2027, 1, 1), limit=10**6)
    assert all(a < b for a, b in pairwise(slots))


def test_slots_between_gives_the_earliest_up_to_the_limit() -> None:
    slots = slots_between(cron("*/15 * * * *"), utc(2026, 1, 1), utc(2026, 1, 2), limit=3)
    assert slots == [utc(2026, 1, 1, 0, 15), utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 0, 45)]


def test_iter_slots_chains_like_next_slot() -> None:
    schedule = cron("*/20 * * * *", "Europe/Berlin")
    slots = iter_slots(schedule, utc(2026, 10, 24, 23))
    chained = [next_slot(schedule, utc(2026, 10, 24, 23))]
    for _ in range(19):
        chained.append(next_slot(schedule, chained[-1]))
    assert [next(slots) for _ in range(20)] == chained


@pytest.mark.parametrize(
    ("schedule", "at", "expected"),
    [
        # a slot time itself is the latest slot at it
        (cron("*/15 * * * *"), utc(2026, 5, 4, 10, 15), utc(2026, 5, 4, 10, 15)),
        # between slots: the one before
        (cron("*/15 * * * *"), utc(2026, 5, 4, 10, 29), utc(2026, 5, 4, 10, 15)),
        # daily 02:30 Berlin, asked in the afternoon: this morning's
        (cron("30 2 * * *", "Europe/Berlin"), utc(2026, 7, 1, 14), utc(2026, 7, 1, 0, 30)),
        # yearly: New Year, from midsummer
        (cron("0 0 1 1 *"), utc(2026, 7, 1), utc(2026, 1, 1)),
        # interval: the last multiple of 7 min since the epoch
        (every(420), utc(2026, 1, 2), utc(2026, 1, 1, 23, 55)),
    ],
)
def test_latest_slot(schedule: Schedule, at: datetime, expected: datetime) -> None:
    assert latest_slot(schedule, at) == expected


def quarter_hours(start: datetime, end: datetime) -> list[datetime]:
    """Every quarter hour in (start, end], written out by hand for the expectations."""
    out, t = [], start + timedelta(minutes=15)
    while t <= end:
        out.append(t)
        t += timedelta(minutes=15)
    return out


@pytest.mark.parametrize(
    ("last_slot", "now", "expected"),
    [
        # on time: the one slot that just came due
        (utc(2026, 5, 4, 10), utc(2026, 5, 4, 10, 15), [utc(2026, 5, 4, 10, 15)]),
        # woke up a little early: nothing yet
        (utc(2026, 5, 4, 10), utc(2026, 5, 4, 10, 14, 59), []),
        # the clock jumped 2 hours forward: every slot in between, for catch-up to decide
        (
            utc(2026, 5, 4, 10),
            utc(2026, 5, 4, 12, 5),
            quarter_hours(utc(2026, 5, 4, 10), utc(2026, 5, 4, 12, 5)),
        ),
        # the clock jumped back an hour behind the last slot done: nothing, no re-run
        (utc(2026, 5, 4, 12), utc(2026, 5, 4, 11), []),
        # still behind, even on another slot's time that was already done
        (utc(2026, 5, 4, 12), utc(2026, 5, 4, 11, 45), []),
        # back level with the last slot: still nothing
        (utc(2026, 5, 4, 12), utc(2026, 5, 4, 12), []),
        # never ran: only the most recent slot
        (None, utc(2026, 5, 4, 10, 20), [utc(2026, 5, 4, 10, 15)]),
    ],
)
def test_due_slots(last_slot: datetime | None, now: datetime, expected: list[datetime]) -> None:
    assert due_slots(cron("*/15 * * * *"), last_slot, now) == expected


def test_a_backward_clock_jump_gives_nothing_until_now_passes_the_last_slot() -> None:
    schedule = cron("*/15 * * * *")
    clock = FakeClock(utc(2026, 5, 4, 12))
    last = due_slots(schedule, None, clock.now())[-1]  # 12:00 runs
    clock.set(utc(2026, 5, 4, 11))  # NTP steps the clock back an hour
    seen = []
    for _ in range(80):  # walk the wall clock forward a minute at a time to 12:20
        seen += due_slots(schedule, last, clock.now())
        if seen:
            last = seen[-1]
            break
        clock.advance(60)
    assert seen == [utc(2026, 5, 4, 12, 15)]
    assert clock.now() == utc(2026, 5, 4, 12, 15)


def test_due_slots_for_a_workflow_that_never_ran_is_the_latest_slot_only() -> None:
    schedule = cron("30 2 * * *", "Europe/Berlin")
    assert due_slots(schedule, None, utc(2026, 7, 1, 14)) == [utc(2026, 7, 1, 0, 30)]
    assert due_slots(every(30), None, utc(2026, 7, 1, 14, 0, 45)) == [utc(2026, 7, 1, 14, 0, 30)]


@pytest.mark.parametrize(
    "schedule",
    [cron("* * * * *"), cron("*/5 * * * *", "Europe/Berlin"), every(60)],
)
def test_due_slots_keeps_the_most_recent_up_to_the_limit(schedule: Schedule) -> None:
    last, now = utc(2025, 6, 1), utc(2026, 10, 25, 3)  # a long outage, over a DST change
    due = due_slots(schedule, last, now, limit=100)
    assert len(due) == 100
    assert due == slots_between(schedule, now - timedelta(days=1), now, limit=10**6)[-100:]
    assert due[-1] == latest_slot(schedule, now)


def test_due_slots_agrees_with_slots_between_over_a_dst_change() -> None:
    schedule = cron("*/20 * * * *", "Europe/Berlin")
    last, now = utc(2026, 10, 24, 20), utc(2026, 10, 25, 6)
    assert due_slots(schedule, last, now) == slots_between(schedule, last, now)


def test_jitter_is_deterministic_and_pinned() -> None:
    # Pinned: a change here moves every workflow's start time; make it on purpose.
    assert jitter_offset("checkout", 300) == jitter_offset("checkout", 300)
    assert jitter_offset("checkout", 300) == pytest.approx(130.28524764620545)


@pytest.mark.parametrize("max_jitter_s", [300.0, 1.0, 1e-9, 5e-324, 0.1])
def test_jitter_stays_in_range(max_jitter_s: float) -> None:
    for n in range(2000):
        assert 0.0 <= jitter_offset(f"workflow-{n}", max_jitter_s) < max_jitter_s


def test_jitter_spreads_500_workflows() -> None:
    offsets = [jitter_offset(f"workflow-{n}", 300) for n in range(500)]
    # 500 offsets in 3,000 buckets of 100 ms: about 460 distinct if uniform.
    assert len({int(o * 10) for o in offsets}) >= 400
    # And evenly over the range: each 30 s tenth holds about 50.
    tenths = Counter(int(o // 30) for o in offsets)
    assert all(25 <= tenths[k] <= 75 for k in range(10))


@pytest.mark.parametrize(
    ("max_jitter_s", "expected"),
    [
        (0, 0.0),  # no jitter: start on the slot
        (-1, ValueError),  # negative makes no sense
        (float("nan"), ValueError),  # nor does NaN
        (float("inf"), ValueError),  # nor infinity
    ],
)
def test_jitter_edges(max_jitter_s: float, expected: float | type[Exception]) -> None:
    if isinstance(expected, float):
        assert jitter_offset("checkout", max_jitter_s) == expected
    else:
        with pytest.raises(expected):
            jitter_offset("checkout", max_jitter_s)


def test_start_at_delays_the_run_but_not_the_slot() -> None:
    slot = utc(2026, 5, 4, 10, 15)
    assert start_at(slot, 12.5) == utc(2026, 5, 4, 10, 15, 12, 500000)
    assert slot == utc(2026, 5, 4, 10, 15)
