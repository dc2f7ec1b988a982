"""Silences: what they cover, and when they are in force (one-off and recurring, DST)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wfmon.alerts.silences import covering, finished, matches, window_at
from wfmon.domain.alert import Silence

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = Silence(id=1, name=None, source="cli", author="ops", comment="c", created_at=T0)


@pytest.mark.parametrize(
    ("silence", "workflow", "location", "tags", "expected"),
    [
        (BASE, "checkout", "eu", (), True),  # no matchers: everything
        (replace(BASE, workflows=("checkout",)), "checkout", "eu", (), True),
        (replace(BASE, workflows=("checkout-*",)), "checkout-eu", "eu", (), True),  # a glob
        (replace(BASE, workflows=("checkout-*",)), "login", "eu", (), False),
        (replace(BASE, tags=("payments",)), "checkout", "eu", ("payments", "web"), True),
        (replace(BASE, tags=("payments",)), "checkout", "eu", ("web",), False),
        # every non-empty matcher must match
        (replace(BASE, workflows=("checkout",), locations=("us",)), "checkout", "eu", (), False),
        # wfmon's own alerts: only a silence without matchers covers them
        (BASE, None, None, (), True),
        (replace(BASE, tags=("payments",)), None, None, (), False),
    ],
)
def test_what_a_silence_covers(
    silence: Silence,
    workflow: str | None,
    location: str | None,
    tags: tuple[str, ...],
    expected: bool,
) -> None:
    assert matches(silence, workflow, location, tags) is expected


ONE_OFF = replace(BASE, starts_at=T0, ends_at=T0 + timedelta(hours=1))
# Every Sunday 02:00 Berlin time for 2 h. 2026-03-29 is the spring-forward Sunday there.
WEEKLY = replace(BASE, cron="0 2 * * 0", duration_s=7200, timezone="Europe/Berlin")


@pytest.mark.parametrize(
    ("silence", "now", "active"),
    [
        (ONE_OFF, T0 - timedelta(seconds=1), False),
        (ONE_OFF, T0, True),  # the start is in
        (ONE_OFF, T0 + timedelta(minutes=59), True),
        (ONE_OFF, T0 + timedelta(hours=1), False),  # the end is out
        (
            replace(ONE_OFF, expired_at=T0 + timedelta(minutes=10)),
            T0 + timedelta(minutes=20),
            False,
        ),
        # 2026-03-08 02:00 CET is 01:00Z: in force 01:00Z-03:00Z
        (WEEKLY, datetime(2026, 3, 8, 0, 59, tzinfo=UTC), False),
        (WEEKLY, datetime(2026, 3, 8, 1, 0, tzinfo=UTC), True),
        (WEEKLY, datetime(2026, 3, 8, 2, 59, tzinfo=UTC), True),
        (WEEKLY, datetime(2026, 3, 8, 3, 0, tzinfo=UTC), False),
        (WEEKLY, datetime(2026, 3, 9, 1, 30, tzinfo=UTC), False),  # Monday
        # spring forward: 02:00 does not exist, the window opens at 03:00 CEST (01:00Z)
        (WEEKLY, datetime(2026, 3, 29, 1, 30, tzinfo=UTC), True),
        # summer: 02:00 CEST is 00:00Z
        (WEEKLY, datetime(2026, 4, 5, 0, 30, tzinfo=UTC), True),
        (WEEKLY, datetime(2026, 4, 5, 2, 30, tzinfo=UTC), False),
    ],
)
def test_when_a_silence_is_in_force(silence: Silence, now: datetime, active: bool) -> None:
    assert (window_at(silence, now) is not None) is active


def test_covering_picks_a_silence_in_force_that_matches() -> None:
    other = replace(ONE_OFF, id=2, workflows=("login",))
    mine = replace(ONE_OFF, id=3, workflows=("checkout",))
    found = covering([other, mine], "checkout", None, (), T0 + timedelta(minutes=5))
    assert found is not None
    assert found.id == 3
    assert covering([other, mine], "checkout", None, (), T0 + timedelta(hours=2)) is None


@pytest.mark.parametrize(
    ("silence", "done"),
    [
        (ONE_OFF, True),  # ended an hour ago
        (replace(ONE_OFF, ends_at=T0 + timedelta(days=3)), False),
        (WEEKLY, False),  # recurring: comes back
        (replace(WEEKLY, expired_at=T0), True),  # expired by hand
    ],
)
def test_finished_silences_never_come_back(silence: Silence, done: bool) -> None:
    assert finished(silence, T0 + timedelta(hours=2)) is done
