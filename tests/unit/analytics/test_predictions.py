"""Live failure predictions from stored runs: the rule, the probability counted on the
workflow's own history, and the reason in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from wfmon.analytics.predictions import predict, step_limits
from wfmon.analytics.runs import RunFacts, StepFacts

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _run(i: int, ms: float, failed: bool = False, workflow: str = "checkout") -> RunFacts:
    step = StepFacts("pay", "failed" if failed else "succeeded", ms, error="x" if failed else None)
    return RunFacts(
        workflow,
        T0 + timedelta(minutes=5 * i),
        "failed" if failed else "succeeded",
        None if failed else ms,
        "pay: x" if failed else None,
        (step,),
    )


def test_a_step_near_its_limit_is_at_risk_with_the_rate_it_earned() -> None:
    # Every time pay came within 90 % of its 1 s limit, the next run failed; a failure was
    # never followed by another within three runs. The rule fires on both (a slow run, a
    # failed run), so the rate it earned is about half.
    runs = []
    for i in range(0, 200, 4):
        runs += [_run(i, 300), _run(i + 1, 950), _run(i + 2, 1200, failed=True), _run(i + 3, 300)]
    runs.append(_run(200, 920))
    [p] = predict(runs, {("checkout", "pay"): 1000.0})
    assert p.at_risk is True
    assert 0.45 < p.probability < 0.55
    assert p.reason == "step pay took 920 ms, 92% of its 1.0 s limit"
    assert p.runs == 201


def test_calm_workflows_come_after_those_at_risk() -> None:
    runs = [_run(i, 300, workflow="calm") for i in range(20)]
    runs += [_run(i, 300, failed=i == 19, workflow="shaky") for i in range(20)]
    found = predict(runs, {})
    assert [(p.workflow, p.at_risk) for p in found] == [("shaky", True), ("calm", False)]
    assert found[0].reason == "the last run failed at step pay; failures tend to come in runs"
    assert found[1].probability < 0.1


def test_step_limits_come_from_the_stored_definitions() -> None:
    definitions: list[tuple[str, dict[str, Any]]] = [
        (
            "checkout",
            {"steps": [{"name": "pay", "expect": {"max_duration": "800ms"}}, {"name": "x"}]},
        ),
        ("broken", {"steps": ["not a mapping", {"name": "y", "expect": {"max_duration": "soon"}}]}),
    ]
    assert step_limits(definitions) == {("checkout", "pay"): 800.0}
