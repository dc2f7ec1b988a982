"""Evidence a workflow's baseline takes from more than one series at once: steps that slow
down together in one run, and passes that needed a retry."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from wfmon.analytics.baseline import Change, WorkflowBaseline
from wfmon.analytics.runs import RunFacts, StepFacts, points

T0 = datetime(2026, 1, 5, tzinfo=UTC)
STEPS = {"login": 40.0, "list": 30.0, "search": 25.0, "product": 15.0}


def _run(
    i: int, rng: random.Random, factors: dict[str, float] | None = None, attempts: int = 1
) -> RunFacts:
    steps = tuple(
        StepFacts(
            name, "succeeded", base * rng.lognormvariate(0.0, 0.1) * (factors or {}).get(name, 1.0)
        )
        for name, base in STEPS.items()
    )
    return RunFacts(
        "shop",
        T0 + timedelta(minutes=15 * i),
        "succeeded",
        sum(s.total_ms for s in steps),
        steps=steps,
        attempts=attempts,
    )


def _warm(baseline: WorkflowBaseline, rng: random.Random, n: int = 200) -> None:
    for i in range(n):
        baseline.observe(_run(i, rng))


def _together(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.kind == "opened" and "slower together" in c.reason]


def test_every_step_slower_in_one_run_opens_an_episode_at_once() -> None:
    rng = random.Random(1)
    baseline = WorkflowBaseline("shop")
    _warm(baseline, rng)
    changes = baseline.observe(_run(200, rng, dict.fromkeys(STEPS, 2.0)))
    opened = [c for c in changes if c.kind == "opened"]
    assert [(c.step, c.metric) for c in opened] == [("", "duration")]
    assert "4 of 4 steps slower together" in opened[0].reason


def test_one_stalled_step_is_not_corroborated() -> None:
    rng = random.Random(2)
    baseline = WorkflowBaseline("shop")
    _warm(baseline, rng)
    assert _together(baseline.observe(_run(200, rng, {"search": 6.0}))) == []  # one stall


def test_half_the_steps_slower_is_not_enough() -> None:
    rng = random.Random(3)
    baseline = WorkflowBaseline("shop")
    _warm(baseline, rng)
    assert _together(baseline.observe(_run(200, rng, {"login": 2.0, "list": 2.0}))) == []


def test_passes_that_needed_a_retry_are_news_for_a_journey_that_never_needed_one() -> None:
    rng = random.Random(4)
    baseline = WorkflowBaseline("shop")
    _warm(baseline, rng, 300)
    first = baseline.observe(_run(300, rng, attempts=2))
    opened = [c for c in first if c.kind == "opened"]
    assert [c.series for c in opened] == ["first_try"]
    assert "1 of the last 10 passing runs needed a retry" in opened[0].reason


def test_a_journey_that_often_retries_learns_that_it_does() -> None:
    rng = random.Random(5)
    baseline = WorkflowBaseline("shop")
    opened = 0
    for i in range(600):
        changes = baseline.observe(_run(i, rng, attempts=2 if i % 5 == 0 else 1))
        opened += sum(1 for c in changes if c.kind == "opened" and c.series == "first_try")
        if i == 399:
            early = opened
    assert opened == early  # nothing new once every fifth run retrying is the norm


def test_first_try_points_come_from_passing_runs_only() -> None:
    rng = random.Random(6)
    ok = _run(0, rng, attempts=2)
    failed = RunFacts("shop", T0, "failed", 10.0, "login: status", ok.steps, attempts=2)
    assert [(p.metric, p.value) for p in points(ok) if p.metric == "first_try"] == [
        ("first_try", 0.0)
    ]
    assert [p for p in points(failed) if p.metric == "first_try"] == []
