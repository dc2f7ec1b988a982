"""Pure slot maths: the scheduled moments (slots) of a workflow's schedule.

A slot is one scheduled moment, a timezone-aware UTC datetime. Slot times are a pure function of
the schedule, never of when or from where we started counting, so two schedulers, or one that
restarted, agree on every slot: that is what makes `(workflow, location, slot_at)` a safe
idempotency key. Nothing here reads the clock; callers pass `now`.

Intervals (`every_s`) are anchored to the Unix epoch: slots are the whole multiples of the
interval since 1970-01-01T00:00Z, whatever the time zone.

Cron expressions (5 fields, Debian cron semantics, parsed by cronsim) are evaluated in the
schedule's time zone. Daylight saving time follows cronsim and Debian cron:

* A **fixed-time** job (neither the minute nor the hour field starts with ``*``, e.g.
  ``30 2 * * *``) runs once per matching wall-clock time. When that time does not exist
  (spring forward: 02:30 in Europe/Berlin on 2026-03-29) it runs at the first real minute after
  the gap (03:00 CEST, which is 01:00Z). When it happens twice (fall back: 02:30 on 2026-10-25)
  it runs once, at the first occurrence (02:30 CEST, 00:30Z). So a daily job runs exactly once
  on every local day.
* A **frequent** job (the minute or the hour field starts with ``*``, e.g. ``*/15 * * * *`` or
  ``0 * * * *``) follows elapsed time: a wall-clock time that does not exist is skipped and one
  that happens twice runs twice, so ``0 * * * *`` runs 23 times on the spring-forward day and
  25 times on the fall-back day, always an hour apart.

cronsim iterating an aware datetime means the same, but for frequent jobs which slots it finds
can depend on where it started counting: in Australia/Lord_Howe (a 30-minute DST shift),
``0 */4 * * *`` counted from the day before skips 04:00 on 2026-04-05, counted from 03:00 that
day it finds it. A slot that depends on the starting point breaks idempotency, so here cronsim
walks naive local wall-clock times (plain calendar arithmetic, no DST) and `_instants` maps each
one to real instants by the rules above. For fixed-time jobs that is exactly what cronsim does
itself; the tests check the two agree everywhere else.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from difflib import get_close_matches
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError

from wfmon.domain.workflow import Schedule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_LIMIT = 1000
MIN_INTERVAL_S = 1.0
_MICROSECOND = timedelta(microseconds=1)
_MINUTE = timedelta(minutes=1)
_FIELDS = "minute hour day-of-month month day-of-week"
# How far back latest_slot() looks for a cron slot, growing until one is found: most
# schedules are found in the first window, a yearly one in the fifth.
_LOOKBACK = tuple(timedelta(days=d) for d in (1 / 24, 1, 8, 32, 367, 4 * 366 + 1, 50 * 366))


def validate_cron(expr: str) -> None:
    """Raise ValueError, with a hint, unless `expr` is a 5-field cron expression that fires."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron expression {expr!r} has {len(fields)} fields; it needs 5 ({_FIELDS}), "
            "e.g. '*/15 * * * *'; for sub-minute schedules use an interval instead"
        )
    try:
        first = next(CronSim(expr, datetime(2000, 1, 1)), None)  # naive: calendar maths only
    except CronSimError as exc:
        raise ValueError(
            f"cron expression {expr!r} is invalid: {exc} (fields are {_FIELDS})"
        ) from exc
    if first is None:
        raise ValueError(f"cron expression {expr!r} never fires (check day-of-month and month)")


def validate_timezone(name: str) -> None:
    """Raise ValueError, with a hint, unless `name` is an IANA time zone zoneinfo knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {name!r}; {_zone_hint(name)}") from exc


def _zone_hint(name: str) -> str:
    known = available_timezones()  # scans the zone files: only on this error path
    if not known:
        return "this system has no time zone data: install the tzdata package"
    same = [zone for zone in known if zone.lower() == str(name).lower()]
    close = same or get_close_matches(str(name), sorted(known), n=3, cutoff=0.75)
    if close:
        return f"did you mean {' or '.join(repr(zone) for zone in close)}?"
    return "use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'"


def validate_schedule(schedule: Schedule) -> None:
    """Raise ValueError unless `schedule` has exactly one valid cron or interval, and a zone."""
    if (schedule.cron is None) == (schedule.every_s is None):
        raise ValueError("a schedule needs exactly one of cron or every_s")
    if schedule.cron is not None:
        validate_cron(schedule.cron)
    else:
        _interval_us(schedule)
    validate_timezone(schedule.timezone)


def iter_slots(schedule: Schedule, after: datetime) -> Iterator[datetime]:
    """Every slot strictly after `after`, in order, as UTC datetimes (lazily; it may not end)."""
    after = _utc(after, "after")
    if schedule.every_s is not None and schedule.cron is None:
        interval = _interval_us(schedule)
        k = _us_since_epoch(after) // interval + 1
        while True:
            yield EPOCH + timedelta(microseconds=k * interval)
            k += 1
    if schedule.cron is None or schedule.every_s is not None:
        raise ValueError("a schedule needs exactly one of cron or every_s")
    yield from _iter_cron(schedule.cron, _zone(schedule.timezone), after)


def next_slot(schedule: Schedule, after: datetime) -> datetime:
    """The first slot strictly after `after` (any aware datetime; the result is UTC)."""
    slot = next(iter_slots(schedule, after), None)
    if slot is None:
        raise ValueError(f"schedule {schedule.cron!r} has no slot after {after.isoformat()}")
    return slot


def slots_between(
    schedule: Schedule, start: datetime, end: datetime, limit: int = DEFAULT_LIMIT
) -> list[datetime]:
    """The earliest `limit` slots in (start, end], in order."""
    end = _utc(end, "end")
    slots: list[datetime] = []
    if limit < 1:
        return slots
    for slot in iter_slots(schedule, start):
        if slot > end:
            break
        slots.append(slot)
        if len(slots) >= limit:
            break
    return slots


def latest_slot(schedule: Schedule, at: datetime) -> datetime | None:
    """The most recent slot at or before `at`, or None if there was none in 50 years."""
    at = _utc(at, "at")
    if schedule.every_s is not None and schedule.cron is None:
        interval = _interval_us(schedule)
        return EPOCH + timedelta(microseconds=_us_since_epoch(at) // interval * interval)
    for window in _LOOKBACK:
        latest = None
        for slot in iter_slots(schedule, at - window):
            if slot > at:
                break
            latest = slot
        if latest is not None:
            return latest
    return None


def due_slots(
    schedule: Schedule, last_slot: datetime | None, now: datetime, limit: int = DEFAULT_LIMIT
) -> list[datetime]:
    """The slots to deal with now: every slot in (last_slot, now], oldest first.

    `last_slot` is the latest slot already handled (run or recorded missed). Slots are never
    at or before it, so when the wall clock jumps back this returns nothing until `now`
    passes `last_slot` again, and no slot runs twice. After a jump forward (or downtime) it
    returns every slot in between, for `catchup.plan_catch_up` to decide on.

    `last_slot=None` (a workflow that never ran) gives only the most recent slot at or before
    `now`: it is always within one period of `now`, since the next slot is after `now`.

    At most the `limit` most recent slots are returned; a caller that gets exactly `limit`
    should treat the span between `last_slot` and the first of them as missed too.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    now = _utc(now, "now")
    if last_slot is None:
        latest = latest_slot(schedule, now)
        return [latest] if latest is not None else []
    last = _utc(last_slot, "last_slot")
    if last >= now:
        return []
    if schedule.every_s is not None and schedule.cron is None:
        interval = _interval_us(schedule)
        first = _us_since_epoch(last) // interval + 1
        final = _us_since_epoch(now) // interval
        first = max(first, final - limit + 1)
        return [EPOCH + timedelta(microseconds=k * interval) for k in range(first, final + 1)]
    # Slots do not depend on where counting starts, so count back from `now` in growing
    # windows instead of walking, say, a year of every-minute slots after a long outage.
    window = timedelta(hours=1)
    while True:
        start = max(last, now - window)
        recent: deque[datetime] = deque(maxlen=limit)
        for slot in iter_slots(schedule, start):
            if slot > now:
                break
            recent.append(slot)
        if start == last or len(recent) == limit:
            return list(recent)
        window *= 4


def jitter_offset(workflow_name: str, max_jitter_s: float) -> float:
    """A stable pseudo-random delay in [0, max_jitter_s) for this workflow's slots.

    Derived from a hash of the name (not `hash()`, which is salted per process), so every
    scheduler and every restart agree, yet 500 workflows on `*/5` do not all start in the
    same millisecond. The slot identity stays the un-jittered time; see `start_at`.
    """
    if not math.isfinite(max_jitter_s) or max_jitter_s < 0:
        raise ValueError(f"max_jitter_s must be a finite number >= 0, not {max_jitter_s!r}")
    if max_jitter_s == 0:
        return 0.0
    digest = hashlib.blake2b(workflow_name.encode(), digest_size=8, person=b"wfmon-jitter")
    fraction = (int.from_bytes(digest.digest(), "big") >> 11) / (1 << 53)  # exact, < 1
    offset = fraction * max_jitter_s
    # The product can round up to max_jitter_s itself; the range is half-open.
    return offset if offset < max_jitter_s else math.nextafter(max_jitter_s, 0.0)


def start_at(slot: datetime, offset_s: float) -> datetime:
    """When a slot's run should start: the slot time delayed by its jitter offset."""
    return slot + timedelta(seconds=offset_s)


def _iter_cron(expr: str, zone: tzinfo, after: datetime) -> Iterator[datetime]:
    if zone is UTC:
        for wall in CronSim(expr, after.replace(tzinfo=None)):
            yield wall.replace(tzinfo=UTC)
        return
    start = after.astimezone(zone).replace(tzinfo=None, fold=0)
    instants, _ = _instants(start, zone)
    if len(instants) == 2:
        # `after` is in a repeated hour: its wall time may come after that of slots in the
        # hour's second pass (which are after `after`), so start counting before the hour.
        start -= instants[1] - instants[0]
    fields = expr.split()
    if not fields[0].startswith("*") and not fields[1].startswith("*"):
        # Fixed-time job: one instant per wall time, never decreasing, so in order.
        last = after
        for wall in CronSim(expr, start):
            slot = _first_real(wall, zone)
            if slot > last:
                last = slot
                yield slot
        return
    # Frequent job: the two passes of a repeated hour interleave, so hold slots back until no
    # later wall time can give an earlier instant (the earliest instant of the current one).
    pending: list[datetime] = []
    for wall in CronSim(expr, start):
        instants, floor = _instants(wall, zone)
        for slot in instants:
            if slot > after:
                heapq.heappush(pending, slot)
        while floor is not None and pending and pending[0] <= floor:
            yield heapq.heappop(pending)
    while pending:
        yield heapq.heappop(pending)


def _instants(wall: datetime, zone: tzinfo) -> tuple[list[datetime], datetime | None]:
    """The UTC instants a naive local wall time happens at (0, 1 or 2), and the earliest."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return [first], first
    if first.astimezone(zone).replace(tzinfo=None) != wall:
        return [], None  # in a spring-forward gap: this wall time does not exist
    return [first, second], first  # in a repeated hour: it happens twice


def _first_real(wall: datetime, zone: tzinfo) -> datetime:
    """The first occurrence of `wall`, or if it does not exist the first real minute after.

    The same rule as cronsim's fixup for fixed-time jobs (and Debian cron's).
    """
    while True:
        instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            return instant
        wall += _MINUTE


def _zone(name: str) -> tzinfo:
    if name in ("UTC", "Etc/UTC"):
        return UTC  # the fast path: no DST to handle
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _interval_us(schedule: Schedule) -> int:
    every = schedule.every_s
    if every is None or not math.isfinite(every) or every < MIN_INTERVAL_S:
        raise ValueError(f"every_s must be a number of seconds >= {MIN_INTERVAL_S:g}, not {every}")
    return round(every * 1_000_000)


def _us_since_epoch(when: datetime) -> int:
    return (when - EPOCH) // _MICROSECOND


def _utc(when: datetime, name: str) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), not naive: {when.isoformat()}")
    return when.astimezone(UTC)
