"""Failure patterns: failures grouped by signature, step, target host and endpoint over a
history, and whether they recur at the same time of day ("every day around 02:00")."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from wfmon.analytics.signatures import Failure

MIN_DAYS = 3  # a time of day is a habit only after three days
MIN_SHARE = 0.6  # of the pattern's days, how many must fail within the same two hours


@dataclass(frozen=True)
class FailurePattern:
    signature: str
    step: str
    host: str
    endpoint: str
    count: int
    workflows: tuple[str, ...]
    first_at: datetime
    last_at: datetime
    days: int  # distinct UTC days with a failure
    recurring_hour: int | None  # UTC hour it recurs around, if it does

    def describe(self) -> str:
        where = f"{self.endpoint} " if self.endpoint else ""
        text = f"{where}'{self.signature}' ({self.count} failures in {', '.join(self.workflows)})"
        if self.recurring_hour is not None:
            text += f": every day around {self.recurring_hour:02d}:00 UTC ({self.days} days)"
        return text


def recurring_hour(times: Iterable[datetime]) -> tuple[int | None, int]:
    """(the UTC hour failures recur around, days seen): the two-hour window of the day
    holding failures on the most days, if that is at least MIN_SHARE of MIN_DAYS+ days."""
    days_by_hour: dict[int, set[str]] = defaultdict(set)
    all_days: set[str] = set()
    for when in times:
        day = when.strftime("%Y-%m-%d")
        all_days.add(day)
        days_by_hour[when.hour].add(day)
    best_hour, best, own = None, 0, 0
    for hour in range(24):
        days = days_by_hour[hour] | days_by_hour[(hour + 1) % 24]
        # Ties go to the hour that itself holds the most days (02:05 is "around 02:00").
        if (len(days), len(days_by_hour[hour])) > (best, own):
            best_hour, best, own = hour, len(days), len(days_by_hour[hour])
    if best >= MIN_DAYS and best >= MIN_SHARE * len(all_days):
        return best_hour, len(all_days)
    return None, len(all_days)


def find_patterns(failures: Iterable[Failure]) -> list[FailurePattern]:
    """Patterns, most failures first."""
    groups: dict[tuple[str, str, str, str], list[Failure]] = defaultdict(list)
    for failure in failures:
        groups[(failure.signature, failure.step, failure.host, failure.endpoint)].append(failure)
    patterns = []
    for (sig, step, host, where), items in groups.items():
        hour, days = recurring_hour(f.at for f in items)
        workflows = tuple(w for w, _ in Counter(f.workflow for f in items).most_common())
        patterns.append(
            FailurePattern(
                sig,
                step,
                host,
                where,
                len(items),
                workflows,
                min(f.at for f in items),
                max(f.at for f in items),
                days,
                hour,
            )
        )
    return sorted(patterns, key=lambda p: (-p.count, p.signature))
