"""The executions page's filters: bad values are reported and ignored, never fatal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wfmon.api.params import encode_cursor
from wfmon.web.filters import DEFAULT_LIMIT, parse_filters

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_good_filters_are_parsed_for_the_query() -> None:
    found = parse_filters(
        {
            "workflow": "checkout",
            "since": "24h",
            "until": "2026-03-01T11:00:00Z",
            "limit": "100",
            "cursor": encode_cursor(40),
            "location": "eu",
        },
        ["failed", "error", "failed"],
        NOW,
    )
    assert found.statuses == ("failed", "error")
    assert found.since_at == NOW - timedelta(hours=24)
    assert found.until_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert found.before_id == 40
    assert found.limit == 100
    assert found.problems == ()
    assert found.active
    assert found.params(cursor="x")["status"] == ["failed", "error"]


def test_bad_filters_are_dropped_with_a_reason_each() -> None:
    found = parse_filters(
        {"since": "yesterday-ish", "cursor": "!!", "limit": "7", "workflow": "x" * 500},
        ["failed", "exploded"],
        NOW,
    )
    assert found.statuses == ("failed",)
    assert (found.since, found.since_at, found.before_id) == ("", None, None)
    assert found.limit == DEFAULT_LIMIT
    assert found.workflow == ""
    assert [p.split(":")[0] for p in found.problems] == [
        "status",
        "since",
        "that page link is not valid any more",
    ]


def test_no_filters_is_the_newest_page_of_everything() -> None:
    found = parse_filters({}, [], NOW)
    assert not found.active
    assert (found.since_at, found.until_at, found.before_id) == (None, None, None)
