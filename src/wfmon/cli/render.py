"""How results look on a terminal and in JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.table import Table
from rich.text import Text

from wfmon.domain.run import ExecutionResult, ExecutionStatus, StepStatus

STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "error": "red",
    "timeout": "yellow",
    "aborted": "magenta",
    "cancelled": "dim",
    "missed": "dim",
    "running": "cyan",
    "skipped": "dim",
}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def steps_table(result: ExecutionResult) -> Table:
    table = Table(title=f"{result.workflow} @ {result.location}", title_justify="left")
    for column in (
        "step",
        "type",
        "status",
        "http",
        "dns ms",
        "connect ms",
        "tls ms",
        "ttfb ms",
        "total ms",
        "detail",
    ):
        table.add_column(column, justify="right" if "ms" in column else "left")
    for step in result.steps:
        t = step.timings
        detail = step.reason or ""
        table.add_row(
            Text(step.name),  # Text: names are shown as written, never parsed as markup
            step.type,
            status_text(step.status.value),
            str(step.response_status or ""),
            ms(t.dns_ms),
            ms(t.connect_ms),
            ms(t.tls_ms),
            ms(t.ttfb_ms),
            ms(t.total_ms) if step.status is not StepStatus.SKIPPED else "",
            Text(detail),
        )
    return table


def summary_line(result: ExecutionResult, execution_id: int | None) -> Text:
    text = Text()
    text.append(f"{result.workflow}: ")
    text.append_text(status_text(result.status.value))
    text.append(f" in {result.duration_ms:.0f} ms")
    if result.attempts > 1:
        text.append(f" after {result.attempts} attempts")
    if execution_id is not None:
        text.append(f" (execution {execution_id})")
    if result.status is not ExecutionStatus.SUCCEEDED and result.reason:
        text.append(f"\n  {result.reason}", style="red")
    return text


def result_json(result: ExecutionResult, execution_id: int | None) -> dict[str, Any]:
    data = asdict(result)
    data["id"] = execution_id
    data["duration_ms"] = result.duration_ms
    data["reason"] = result.reason
    return data
