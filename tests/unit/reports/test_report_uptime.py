"""Daemon uptime from heartbeat times: gaps longer than two intervals count as down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.reports.uptime import coverage

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
HOUR = 3600.0


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def every(start: float, stop: float, step: float = 5) -> list[datetime]:
    """Heartbeats from `start` to `stop` minutes (inclusive), `step` minutes apart."""
    count = int((stop - start) / step) + 1
    return [at(start + i * step) for i in range(count)]


CASES = [
    # (id, heartbeats, the one before the period (minutes), up seconds, gaps (minutes))
    ("a beat every interval", every(0, 60), None, HOUR, []),
    ("a beat every interval, a period starting between two", every(2, 57), -3, HOUR, []),
    # 20 minutes of silence (> 10): the whole silence is down, not just its excess.
    ("one gap", every(0, 20) + every(40, 60), None, HOUR - 20 * 60, [(20, 40)]),
    # Exactly two intervals is still up.
    ("a gap of exactly two intervals", every(0, 20) + every(30, 60), None, HOUR, []),
    # The daemon died at 45: the silence to the end of the period is down.
    ("stopped before the end", every(0, 45), None, 45 * 60, [(45, 60)]),
    # Up to two intervals of silence at the end may just be the next beat not due yet.
    ("silent for the last 8 minutes", every(0, 52, 4), None, HOUR, []),
    # Started at 30: before that, down (there was no earlier heartbeat).
    ("started during the period", every(30, 60), None, 30 * 60, [(0, 30)]),
    # A beat before the period covers its start when recent enough...
    ("covered from before", every(4, 59), -1, HOUR, []),
    # ...but not when it is older than two intervals: the gap reaches into the period.
    ("a gap from before the period", every(15, 60), -15, 45 * 60, [(0, 15)]),
    ("no heartbeat at all", [], None, 0.0, [(0, 60)]),
    ("only a beat long before", [], -120, 0.0, [(0, 60)]),
    ("only a recent beat before", [], -1, 0.0, [(0, 60)]),
]


@pytest.mark.parametrize(
    ("case", "beats", "before", "up_s", "gaps"), CASES, ids=[c[0] for c in CASES]
)
def test_it_counts_heartbeat_gaps_longer_than_two_intervals_as_down(
    case: str,
    beats: list[datetime],
    before: float | None,
    up_s: float,
    gaps: list[tuple[float, float]],
) -> None:
    cover = coverage(beats, at(0), at(60), 300.0, before=at(before) if before is not None else None)

    assert cover.up_s == pytest.approx(up_s)
    assert [(g.start, g.end) for g in cover.gaps] == [(at(a), at(b)) for a, b in gaps]
    assert cover.ratio == pytest.approx(up_s / HOUR)


def test_the_longest_gap_is_measured_whole_even_across_the_start() -> None:
    cover = coverage(every(15, 60), at(0), at(60), 300.0, before=at(-15))

    assert cover.longest_gap_s == 30 * 60
    assert cover.beats == 10


def test_beats_outside_the_period_are_not_counted() -> None:
    cover = coverage([at(-30), *every(0, 60), at(90)], at(0), at(60), 300.0)

    assert cover.beats == 13
    assert cover.up_s == HOUR
