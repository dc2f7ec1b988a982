"""Reports over a period: build from the database (`build`), check against the targets
(`validate`), render as Markdown, JSON or HTML (`render`), and write hourly (`service`)."""

from __future__ import annotations

from wfmon.reports.build import build_report
from wfmon.reports.model import Report, WorkflowReport
from wfmon.reports.render import FORMATS, Format, render
from wfmon.reports.validate import TargetResult, Targets, all_passed, validate

__all__ = [
    "FORMATS",
    "Format",
    "Report",
    "TargetResult",
    "Targets",
    "WorkflowReport",
    "all_passed",
    "build_report",
    "render",
    "validate",
]
