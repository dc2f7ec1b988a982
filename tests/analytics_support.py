"""Executions as the analytics see them: one HTTP step against the shop's orders API."""

from __future__ import annotations

from datetime import datetime, timedelta

from wfmon.domain.run import ExecutionResult, ExecutionStatus, StepResult, StepStatus, Timings


def order_result(
    workflow: str, at: datetime, ms: float, ok: bool = True, attempts: int = 1
) -> ExecutionResult:
    """A run of `workflow` at `at` whose one step, `checkout`, took `ms` and passed, or
    answered 503 (`ok=False`)."""
    step = StepResult(
        name="checkout",
        type="http",
        status=StepStatus.SUCCEEDED if ok else StepStatus.FAILED,
        started_at=at,
        timings=Timings(ttfb_ms=ms * 0.9, total_ms=ms),
        error=None if ok else "status: expected == 200, got 503",
        request={"method": "POST", "url": "http://shop:8900/api/orders"},
        response_status=200 if ok else 503,
    )
    return ExecutionResult(
        workflow=workflow,
        location="local",
        slot_at=at,
        started_at=at,
        finished_at=at + timedelta(milliseconds=ms),
        status=ExecutionStatus.SUCCEEDED if ok else ExecutionStatus.FAILED,
        steps=(step,),
        elapsed_ms=ms,
        attempts=attempts,
    )
