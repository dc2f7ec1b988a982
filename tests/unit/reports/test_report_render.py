"""A report as Markdown, JSON and a self-contained HTML page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from wfmon.domain.run import ExecutionStatus
from wfmon.reports.failures import FailureGroup
from wfmon.reports.model import Report, WorkflowReport
from wfmon.reports.render import Format, md, render, report_json
from wfmon.reports.uptime import Coverage, Gap
from wfmon.storage.stats import CheckCounts, Percentiles, RunCounts

START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + timedelta(days=1)
S, F = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED
EVIL = "<script>alert('x')</script> | *bold*"


def sample() -> Report:
    failure = FailureGroup(F, "cart: got <n>", 6, END - timedelta(hours=1), "<b>cart</b>: got 500")
    return Report(
        start=START,
        end=END,
        generated_at=END,
        workflows=(
            WorkflowReport(
                name=EVIL,
                schedule="every 5 minutes",
                locations=("local",),
                counts=RunCounts({S: 282, F: 6}),
                expected=288,
                ran=288,
                missed=0,
                duration=Percentiles(288, {50: 412.0, 95: 980.0, 99: 1500.0}),
                lag=Percentiles(288, {50: 0.012, 99: 0.25}),
                failures=(failure,),
            ),
            WorkflowReport(
                name="search",
                schedule=None,
                locations=(),
                counts=RunCounts(),
                expected=None,
                ran=0,
                missed=0,
                duration=Percentiles(),
                lag=Percentiles(),
            ),
        ),
        daemon=Coverage(
            START,
            END,
            300.0,
            280,
            DAY_UP,
            (Gap(START + timedelta(hours=3), START + timedelta(hours=3, minutes=40)),),
            2400.0,
        ),
        checks=Coverage(START, END, 300.0, 280, DAY_UP, (), 2400.0),
        check_counts={"disk": CheckCounts(280, 3), "heartbeat": CheckCounts(280, 0)},
        lag=Percentiles(288, {50: 0.012, 99: 0.25}),
    )


DAY_UP = 86400.0 - 2400.0


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def test_html_shows_a_workflow_named_script_as_text() -> None:
    page = render(sample(), "html")

    assert "<script" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;cart&lt;/b&gt;: got 500" in page  # error texts too
    parsed = _Collect()
    parsed.feed(page)
    assert "script" not in parsed.tags


def test_html_is_a_self_contained_page() -> None:
    page = render(sample(), "html")

    parsed = _Collect()
    parsed.feed(page)
    # Nothing to fetch: no links, scripts, images or imported styles.
    assert not {"script", "link", "img", "iframe"} & set(parsed.tags)
    assert not [value for name, value in parsed.attrs if name in ("src", "href")]
    assert "@import" not in page
    assert "url(" not in page
    assert page.startswith("<!doctype html>")
    for text in ("412 ms", "980 ms", "1.5 s", "0.250 s", "97.22%", "every 5 minutes", "40 min"):
        assert text in page


def test_markdown_escapes_names_and_errors() -> None:
    text = render(sample(), "md")

    row = next(line for line in text.splitlines() if "every 5 minutes" in line)
    assert row.startswith("| &lt;script&gt;alert('x')&lt;/script&gt; \\| \\*bold\\* |")
    assert row.count(" | ") == 9  # ten cells: the escaped `|` did not add one
    assert "<script" not in text
    assert "<b>" not in text
    assert "| 6 | failed | cart: got &lt;n&gt; |" in text
    assert "- down 2026-03-01 03:00 to 2026-03-01 03:40 (40 min)" in text
    assert "| disk | 280 | 3 |" in text


MD = [
    ("a|b", "a\\|b"),
    ("<b>&", "&lt;b&gt;&amp;"),
    ("*x* _y_ `z` [l](u)", "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u)"),
    ("two\nlines", "two lines"),
]


@pytest.mark.parametrize(("raw", "escaped"), MD)
def test_markdown_cells_hold_no_markup(raw: str, escaped: str) -> None:
    assert md(raw) == escaped


def test_json_has_every_figure_and_the_targets() -> None:
    data = json.loads(render(sample(), "json"))

    assert data == report_json(sample())
    assert data["period"] == {
        "start": "2026-03-01T00:00:00+00:00",
        "end": "2026-03-02T00:00:00+00:00",
        "seconds": 86400.0,
    }
    first = data["workflows"][0]
    assert first["name"] == EVIL
    assert first["uptime_ratio"] == pytest.approx(282 / 288)
    assert first["duration_ms"] == {"samples": 288, "p50": 412.0, "p95": 980.0, "p99": 1500.0}
    assert first["failures"][0]["count"] == 6
    assert data["workflows"][1]["expected_slots"] is None
    assert data["daemon"]["gaps"][0]["seconds"] == 2400.0
    assert data["health_checks"]["by_name"]["disk"] == {"total": 280, "failed": 3}
    assert [(t["code"], t["passed"]) for t in data["targets"]] == [
        ("daemon_uptime", False),  # 97.2%
        ("executions_as_scheduled", True),
        ("health_check_interval", False),  # a 40 min gap
        ("error_rate", True),
    ]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_every_text_format_says_the_period(fmt: Format) -> None:
    assert re.search(r"2026-03-01 00:00 to 2026-03-02 00:00 UTC", render(sample(), fmt))
