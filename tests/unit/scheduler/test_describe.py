"""Schedules in plain words, as `wfmon status` shows them."""

from __future__ import annotations

import pytest

from wfmon.domain.workflow import Schedule
from wfmon.scheduler.describe import describe_schedule


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        # intervals: the largest whole unit, singular for one
        (Schedule(every_s=900), "every 15 minutes"),
        (Schedule(every_s=3600), "every hour"),
        (Schedule(every_s=30), "every 30 seconds"),
        (Schedule(every_s=1), "every second"),
        (Schedule(every_s=7200.0), "every 2 hours"),
        (Schedule(every_s=86400), "every day"),
        # 90 s is not a whole number of minutes: seconds it is
        (Schedule(every_s=90), "every 90 seconds"),
        # 5,400 s is a whole number of minutes, not of hours
        (Schedule(every_s=5400), "every 90 minutes"),
        # fractions stay readable
        (Schedule(every_s=2.5), "every 2.5 seconds"),
        # an interval's time zone does not matter (epoch-anchored), so it is not shown
        (Schedule(every_s=60, timezone="Europe/Berlin"), "every minute"),
        # cron via cron-descriptor, first letter lower-cased; UTC is not named
        (Schedule(cron="*/15 * * * *"), "every 15 minutes"),
        (Schedule(cron="0 * * * *"), "every hour"),
        (Schedule(cron="0 */4 * * *"), "every 4 hours"),
        (Schedule(cron="30 2 * * *", timezone="UTC"), "at 02:30"),
        (Schedule(cron="30 2 * * *", timezone="Etc/UTC"), "at 02:30"),
        # any other zone is named, since the times are in it
        (Schedule(cron="30 2 * * *", timezone="Europe/Berlin"), "at 02:30 (Europe/Berlin)"),
        # 24-hour clock and English whatever the host's locale
        (
            Schedule(cron="0 21 * * MON-FRI", timezone="America/New_York"),
            "at 21:00, Monday through Friday (America/New_York)",
        ),
        # neither cron nor interval: a manual-only workflow
        (Schedule(), "not scheduled"),
    ],
)
def test_describe_schedule(schedule: Schedule, expected: str) -> None:
    assert describe_schedule(schedule) == expected
