"""Formatting shared by templates (and mirrored by js/format.js)."""

from __future__ import annotations

import pytest

from wfmon.web.render import fmt_ms, fmt_ratio, fmt_value, path_part, query


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (0, "0 ms"),
        (4.25, "4.2 ms"),
        (840.4, "840 ms"),
        (1240, "1.24 s"),
        (125_000, "2 min 5 s"),
    ],
)
def test_durations_read_at_a_glance(ms: float | None, text: str) -> None:
    assert fmt_ms(ms) == text


@pytest.mark.parametrize(
    ("ratio", "text"), [(None, "—"), (1.0, "100 %"), (0.0, "0 %"), (0.93151, "93.15 %")]
)
def test_ratios_are_percentages(ratio: float | None, text: str) -> None:
    assert fmt_ratio(ratio) == text


def test_values_are_json_unless_text() -> None:
    assert fmt_value("200") == "200"
    assert fmt_value(200) == "200"
    assert fmt_value({"a": [1, None]}) == '{"a": [1, null]}'


def test_url_parts_escape_everything_that_means_something() -> None:
    assert path_part("<script>alert(1)</script>") == "%3Cscript%3Ealert%281%29%3C%2Fscript%3E"
    assert query("/x", {"a": "1 2", "b": ["p", "q"], "c": "", "d": None}) == "/x?a=1+2&b=p&b=q"
    assert query("/x", {"a": ""}) == "/x"
