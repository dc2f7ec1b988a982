"""Flapping (flips counted from the runs, with hysteresis) and grouping (group keys, and
batches that gather notices for a window)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.alerts import flapping
from wfmon.alerts.config import FlappingSpec
from wfmon.alerts.facts import Run
from wfmon.alerts.grouping import Batches, group_key, target_host
from wfmon.config.schema import workflow_model
from wfmon.domain.alert import Severity, Verdict
from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Schedule, Workflow

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SPEC = FlappingSpec(changes=5, window=3600)


def runs(outcomes: str) -> list[Run]:
    """Newest first, one a minute."""
    return [
        Run(
            i,
            NOW - timedelta(minutes=i + 1),
            ExecutionStatus.FAILED if o == "F" else ExecutionStatus.SUCCEEDED,
        )
        for i, o in enumerate(outcomes)
    ]


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [("", 0), ("FFFF", 0), ("FS", 1), ("FSFS", 3), ("FFSSFF", 2)],
)
def test_flips_count_changes_of_outcome(outcomes: str, expected: int) -> None:
    assert flapping.flips(runs(outcomes), NOW - timedelta(hours=1)) == expected


@pytest.mark.parametrize(
    ("outcomes", "is_open", "verdict"),
    [
        ("FSFSFSF", False, Verdict.FAILING),  # 6 flips > 5: flapping
        ("FSFSFS", False, Verdict.OK),  # 5 flips: not more than 5
        ("FSFS" + "S" * 10, True, Verdict.UNKNOWN),  # 3 flips: above 5 // 2, still unsettled
        ("FS" + "S" * 10, True, Verdict.OK),  # 1 flip: settled
    ],
)
def test_flapping_has_hysteresis(outcomes: str, is_open: bool, verdict: Verdict) -> None:
    assert flapping.judge(SPEC, runs(outcomes), NOW, is_open=is_open).verdict is verdict


def test_flips_older_than_the_window_do_not_count() -> None:
    old = [
        Run(i, NOW - timedelta(hours=2, minutes=i), r.status)
        for i, r in enumerate(runs("FSFSFSFS"))
    ]
    assert flapping.judge(SPEC, old, NOW, is_open=False).verdict is Verdict.OK


def workflow(url_or_host: dict[str, str], **extra: object) -> Workflow:
    spec = workflow_model().model_validate(
        {
            "name": "checkout",
            "schedule": "*/5 * * * *",
            "steps": [{"name": "a", **url_or_host}],
        }
    )
    return Workflow(
        name="checkout",
        steps=tuple(spec.steps),  # type: ignore[attr-defined]
        schedule=Schedule(cron="*/5 * * * *"),
        vars={"base": "https://shop.example:8443"},
    )


@pytest.mark.parametrize(
    ("step", "host"),
    [
        ({"type": "http", "url": "https://shop.example/login"}, "shop.example"),
        ({"type": "http", "url": "{{ vars.base }}/login"}, "shop.example"),  # vars filled in
        ({"type": "tcp", "host": "db.internal", "port": 5432}, "db.internal"),
        ({"type": "http", "url": "${env:BASE}/login"}, None),  # unknowable before a run
    ],
)
def test_the_target_host_groups_by_default(step: dict[str, str], host: str | None) -> None:
    assert target_host(workflow(step)) == host


def test_group_keys_by_setting() -> None:
    wf = workflow({"type": "http", "url": "https://shop.example/"})
    assert group_key("host", wf, "r", Severity.CRITICAL, None) == "shop.example"
    assert group_key("workflow", wf, "r", Severity.CRITICAL, None) == "checkout"
    assert group_key("severity", wf, "r", Severity.CRITICAL, None) == "critical"
    assert group_key("host", wf, "r", Severity.CRITICAL, "payments") == "payments"  # explicit
    assert group_key("host", None, "heartbeat", Severity.CRITICAL, None) == "wfmon"


def test_batches_gather_notices_for_the_window() -> None:
    batches = Batches(window_s=30)
    first, why = batches.due("hook", "shop", NOW)
    assert (first, why) == (NOW + timedelta(seconds=30), "opened_group")
    # 10 s later, same channel and group: joins; another group opens its own
    assert batches.due("hook", "shop", NOW + timedelta(seconds=10)) == (first, "joined_group")
    assert batches.due("hook", "api", NOW)[1] == "opened_group"
    # after the batch went out, a new one opens
    later = NOW + timedelta(seconds=31)
    assert batches.due("hook", "shop", later) == (later + timedelta(seconds=30), "opened_group")
    assert Batches(window_s=0).due("hook", "shop", NOW) == (NOW, "grouping_off")
