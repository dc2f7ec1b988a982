"""The waterfall and sparkline maths: percentages the templates write into SVG."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.api.schemas import ExecutionDetailOut, StepOut, TimingsOut
from wfmon.web.charts import nice_step, phase_times, sparkline, waterfall

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def step(
    position: int, offset_ms: float, timings: TimingsOut, status: str = "succeeded"
) -> StepOut:
    return StepOut(
        position=position,
        name=f"s{position}",
        type="http",
        status=status,
        started_at=T0 + timedelta(milliseconds=offset_ms),
        timings=timings,
        assertions=[],
        extracted={},
        request={},
        response_headers={},
        body_truncated=False,
        redirects=[],
    )


def detail(*steps: StepOut, duration_ms: float | None = None) -> ExecutionDetailOut:
    return ExecutionDetailOut(
        id=1,
        workflow="w",
        location="local",
        slot_at=T0,
        trigger="schedule",
        status="failed",
        attempts=1,
        started_at=T0,
        duration_ms=duration_ms,
        steps=list(steps),
    )


@pytest.mark.parametrize(
    ("timings", "expected"),
    [
        # every phase measured: the rest of the total is the transfer
        (
            TimingsOut(dns_ms=5, connect_ms=10, tls_ms=15, ttfb_ms=50, total_ms=100),
            [("dns", 5), ("connect", 10), ("tls", 15), ("ttfb", 50), ("transfer", 20)],
        ),
        # a reused connection: no DNS or connect
        (TimingsOut(ttfb_ms=30, total_ms=40), [("ttfb", 30), ("transfer", 10)]),
        # a python step: only a total
        (TimingsOut(total_ms=12), [("transfer", 12)]),
        # phases adding up to more than the total (clock skew) shrink to it
        (TimingsOut(dns_ms=60, ttfb_ms=60, total_ms=100), [("dns", 50), ("ttfb", 50)]),
    ],
)
def test_phases_add_up_to_the_step_total(
    timings: TimingsOut, expected: list[tuple[str, float]]
) -> None:
    found = phase_times(step(0, 0, timings))
    assert [(name, round(ms, 9)) for name, ms in found] == expected


def test_steps_are_placed_where_they_started_on_one_scale() -> None:
    chart = waterfall(
        detail(
            step(0, 0, TimingsOut(dns_ms=10, connect_ms=10, ttfb_ms=60, total_ms=100)),
            step(1, 100, TimingsOut(ttfb_ms=200, total_ms=300), status="failed"),
        )
    )
    assert chart.span_ms == 400
    first, second = chart.bars
    assert (first.start, first.width) == (0, 25)
    assert (second.start, second.width) == (25, 75)
    assert [(s.phase, s.start, s.width) for s in first.segments] == [
        ("dns", 0, 2.5),
        ("connect", 2.5, 2.5),
        ("ttfb", 5, 15),
        ("transfer", 20, 5),
    ]
    assert second.segments[0].start == 25  # phases start where the step did
    assert chart.ticks == ((0, 0), (25, 100), (50, 200), (75, 300), (100, 400))


def test_an_instant_step_is_still_visible() -> None:
    chart = waterfall(
        detail(step(0, 0, TimingsOut(total_ms=0.01)), step(1, 0, TimingsOut(total_ms=1000)))
    )
    assert chart.bars[0].width == 0.4


@pytest.mark.parametrize(
    ("span", "step_ms"), [(400, 100), (1234, 500), (9.5, 2), (70_000, 20_000), (1, 0.2)]
)
def test_ticks_are_round_numbers(span: float, step_ms: float) -> None:
    assert nice_step(span) == pytest.approx(step_ms)


def test_sparklines_scale_runs_into_the_box_and_mark_failures() -> None:
    line = sparkline([(100.0, True), (300.0, False), (200.0, True)])
    assert line is not None
    assert line.points == "0.0,29.0 60.0,3.0 120.0,16.0"
    assert line.failures == ((60.0, 3.0),)
    assert line.data == "100.0:1,300.0:0,200.0:1"
    assert sparkline([]) is None
    flat = sparkline([(50.0, True)])
    assert flat is not None
    assert flat.points == "60.0,29.0"
