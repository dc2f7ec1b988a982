"""The dead man's switch's memory (alerts/slotwatch.py): the cached due slots agree with the
slot maths, and judging only what memory cannot clear gives the same alerts as judging
every workflow from the database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from wfmon.alerts import evaluate, slotwatch
from wfmon.alerts.config import AlertsSpec
from wfmon.alerts.rulespecs import NoExecutions
from wfmon.domain.alert import Verdict
from wfmon.domain.workflow import Schedule, Workflow
from wfmon.scheduler.cron import latest_slot

T0 = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the Berlin spring-forward night is in range
SPEC = AlertsSpec(rules=[NoExecutions(kind="no_executions", grace=120)])


def wf(name: str, schedule: Schedule, locations: tuple[str, ...] = ("local",)) -> Workflow:
    return Workflow(name=name, steps=(), schedule=schedule, locations=locations, timeout_s=30)


SCHEDULES = {
    "minutely": Schedule(cron="* * * * *"),
    "quarter": Schedule(cron="*/15 * * * *"),
    "nightly-berlin": Schedule(cron="30 2 * * *", timezone="Europe/Berlin"),
    "hourly-berlin": Schedule(cron="0 * * * *", timezone="Europe/Berlin"),
    "every-45s": Schedule(every_s=45),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_the_cached_due_slot_is_the_latest_slot_before_the_grace(name: str) -> None:
    """Pass: at every step of two days in 7-minute steps (across a DST change), then after
    the wall clock steps back 3 hours, the cached due slot equals latest_slot(now - grace)
    computed from scratch."""
    [check] = slotwatch.slot_checks(SPEC, [wf(name, SCHEDULES[name])])
    due = slotwatch.DueSlots()
    now = T0
    times = [T0 + timedelta(minutes=7 * i) for i in range(2 * 24 * 60 // 7)]
    times += [times[-1] - timedelta(hours=3) + timedelta(minutes=i) for i in range(0, 300, 13)]
    for now in times:
        expected = latest_slot(check.workflow.schedule, now - timedelta(seconds=check.grace_s))
        assert due.due(check, now) == expected, now


def test_slot_checks_are_per_location_only_for_workflows_in_several() -> None:
    """Pass: a one-location workflow has one check keyed by workflow; a two-location one
    has a check per location, each counting only its own location's executions."""
    checks = slotwatch.slot_checks(
        SPEC,
        [wf("one", SCHEDULES["quarter"]), wf("two", SCHEDULES["quarter"], ("eu", "us"))],
    )
    assert [(c.key, c.pairs) for c in checks] == [
        ("no_executions:one", (("one", "local"),)),
        ("no_executions:two@eu", (("two", "eu"),)),
        ("no_executions:two@us", (("two", "us"),)),
    ]


def test_judging_what_memory_cannot_clear_gives_the_alerts_of_judging_everything() -> None:
    """Pass: for 100 workflows with random schedules, histories (the database's truth) and
    a memory that knows a random part of that truth, over 30 ticks: the checks judged
    (overdue from memory, read from the truth, or with an open alert) fire exactly for the
    workflows the reference (every workflow judged from the truth) finds failing, and
    resolve every open alert the reference finds OK."""
    rng = random.Random(7)
    workflows = [
        wf(f"w{i:03d}", rng.choice(list(SCHEDULES.values())), rng.choice([("local",), ("a", "b")]))
        for i in range(100)
    ]
    checks = slotwatch.slot_checks(SPEC, workflows)
    started_at = T0 - timedelta(hours=6)
    known_since = {w.name: T0 - timedelta(days=rng.choice([0, 1, 3])) for w in workflows}
    truth: dict[slotwatch.Pair, datetime] = {}
    memory, due = slotwatch.LastSlots(), slotwatch.DueSlots()
    open_keys: set[str] = set()
    for tick in range(30):
        now = T0 + timedelta(minutes=3 * tick)
        for w in workflows:  # what ran since the last tick, here or elsewhere
            for loc in w.locations:
                if rng.random() < 0.8:
                    slot = latest_slot(w.schedule, now - timedelta(seconds=rng.uniform(0, 400)))
                    if slot is not None and slot > truth.get((w.name, loc), slot - timedelta(1)):
                        truth[(w.name, loc)] = slot
                        if rng.random() < 0.6:  # published on this daemon's bus
                            memory.saw((w.name, loc), slot)
        reference = {
            key: finding.verdict
            for _, _, key, finding in evaluate.no_execution_findings(
                checks, truth, known_since, started_at, now
            )
        }

        candidates = slotwatch.overdue(
            checks,
            due,
            memory,
            now,
            started_at=started_at,
            known_since=known_since,
            open_keys=open_keys,
        )
        asked = slotwatch.unsure(candidates, due, memory, now)
        memory.merge({p: truth[p] for p in asked if p in truth})  # the database read
        judged = {
            key: finding.verdict
            for _, _, key, finding in evaluate.no_execution_findings(
                candidates, memory.as_mapping(), known_since, started_at, now
            )
        }

        failing = {k for k, v in reference.items() if v is Verdict.FAILING}
        assert {k for k, v in judged.items() if v is Verdict.FAILING} == failing
        resolved = {k for k in open_keys if reference[k] is Verdict.OK}
        assert {k for k in open_keys if judged.get(k) is Verdict.OK} == resolved
        assert len(asked) < len(truth) or tick == 0  # memory spares most of the reads
        open_keys = (open_keys - resolved) | failing
    assert open_keys  # the run exercised firing and resolving, not only quiet ticks


def test_a_reloaded_schedule_is_not_judged_by_the_old_ones_due_slot() -> None:
    """Pass: the same workflow (same dedup key) reloaded from hourly to every minute gets
    the new schedule's due slot at once, not the hourly one cached before the reload."""
    due = slotwatch.DueSlots()
    [hourly] = slotwatch.slot_checks(SPEC, [wf("x", Schedule(cron="0 * * * *"))])
    [minutely] = slotwatch.slot_checks(SPEC, [wf("x", Schedule(cron="* * * * *"))])
    now = T0 + timedelta(minutes=30)
    assert due.due(hourly, now) == T0
    expected = latest_slot(minutely.workflow.schedule, now - timedelta(seconds=minutely.grace_s))
    assert expected is not None
    assert expected > T0
    assert due.due(minutely, now) == expected
