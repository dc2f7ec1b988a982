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
    """One row per step with its timings (ms); failure details go below the table."""
    table = Table(title=f"{result.workflow} @ {result.location}", title_justify="left")
    table.add_column("step", overflow="fold")
    table.add_column("type")
    table.add_column("status", no_wrap=True)
    table.add_column("code", justify="right")
    for phase in ("dns", "connect", "tls", "ttfb", "total"):
        table.add_column(phase, justify="right", no_wrap=True)
    for step in result.steps:
        t = step.timings
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
        )
    table.caption = "times in ms; connect includes the TLS handshake for https"
    return table


def failure_lines(result: ExecutionResult) -> list[Text]:
    """The failing step's assertion (expected vs actual) or error, one line each."""
    lines = []
    for step in result.steps:
        if step.reason:
            line = Text("  ✗ ", style="red")
            line.append(f"{step.name}: ", style="bold")
            line.append(step.reason)
            lines.append(line)
    return lines


def summary_line(result: ExecutionResult, execution_id: int | None) -> Text:
    text = Text()
    text.append(f"{result.workflow}: ")
    text.append_text(status_text(result.status.value))
    text.append(f" in {result.duration_ms:.0f} ms")
    if result.attempts > 1:
        text.append(f" after {result.attempts} attempts")
    if execution_id is not None:
        text.append(f" (execution {execution_id})")
    if result.status is not ExecutionStatus.SUCCEEDED and result.error:
        text.append(f"\n  {result.error}", style="red")
    return text


def result_json(result: ExecutionResult, execution_id: int | None) -> dict[str, Any]:
    data = asdict(result)
    data["id"] = execution_id
    data["duration_ms"] = result.duration_ms
    data["reason"] = result.reason
    return data
