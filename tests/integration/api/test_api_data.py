"""Listing executions and reading time series, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api_support import Harness, execution, now_utc
from wfmon.api.schemas import TimeseriesOut
from wfmon.domain.run import ExecutionStatus
from wfmon.storage.rollups import floor_to


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


async def _seed(api: Harness) -> None:
    now = now_utc()
    results = []
    for i in range(25):
        status = ExecutionStatus.FAILED if i % 5 == 0 else ExecutionStatus.SUCCEEDED
        results.append(
            execution(
                now - timedelta(minutes=i),
                workflow="checkout" if i % 2 == 0 else "private",
                location="eu" if i % 3 == 0 else "us",
                status=status,
            )
        )
    await api.record(results)


async def test_cursor_pagination_walks_every_execution_once_newest_first(api_both: Harness) -> None:
    await _seed(api_both)
    reader = api_both.reader()
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 10}
        if cursor:
            params["cursor"] = cursor
        body = (await reader.get("/api/v1/executions", params=params)).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 25
    assert seen == sorted(seen, reverse=True)


FILTERS: list[tuple[dict[str, Any], int]] = [
    ({"workflow": "checkout"}, 13),  # even minutes
    ({"status": "failed"}, 5),
    ({"status": ["failed", "succeeded"]}, 25),  # repeated for several
    ({"location": "eu"}, 9),  # every third
    ({"workflow": "checkout", "status": "failed"}, 3),  # 0, 10, 20
    ({"since": "10m"}, 10),  # durations count back from now: minutes 0-9
    ({"until": "10m"}, 15),  # minutes 10-24
]


async def test_executions_can_be_filtered(api_both: Harness) -> None:
    await _seed(api_both)
    reader = api_both.reader()
    for params, expected in FILTERS:
        body = (await reader.get("/api/v1/executions", params={**params, "limit": 500})).json()
        assert len(body["items"]) == expected, params


async def test_an_iso_time_filter_works_too(api_both: Harness) -> None:
    await _seed(api_both)
    since = (now_utc() - timedelta(minutes=4, seconds=30)).isoformat()
    body = (await api_both.reader().get("/api/v1/executions", params={"since": since})).json()
    assert len(body["items"]) == 5


BAD_FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"limit": 0}, "query.limit"),
    ({"limit": "many"}, "query.limit"),
    ({"status": "exploded"}, "query.status[0]"),
    ({"since": "yesterday-ish"}, "query.since"),
    ({"since": "3000-01-01T00:00:00Z"}, "query.since"),
    ({"cursor": "not-a-cursor"}, "query.cursor"),
    ({"workflow": "bad\x01name"}, "query.workflow"),
]


async def test_bad_filters_are_422_problems_naming_the_field(api: Harness) -> None:
    reader = api.reader()
    for params, field in BAD_FILTERS:
        body = _problem(await reader.get("/api/v1/executions", params=params), 422)
        assert body["type"].endswith("/invalid-input")
        assert [e["field"] for e in body["errors"]] == [field], params


async def test_timeseries_come_from_rollups_per_bucket(api_both: Harness) -> None:
    hour = floor_to(now_utc(), "hour") - timedelta(hours=3)
    results = [
        execution(hour + timedelta(minutes=1), duration_ms=100),
        execution(hour + timedelta(minutes=2), duration_ms=200),
        execution(hour + timedelta(minutes=3), duration_ms=400, status=ExecutionStatus.TIMEOUT),
        execution(hour + timedelta(hours=1, minutes=5), duration_ms=1000),
    ]
    await api_both.record(results)
    reader = api_both.reader()
    p95 = (
        await reader.get(
            "/api/v1/metrics/timeseries",
            params={
                "workflow": "checkout",
                "metric": "duration_p95",
                "since": "6h",
                "resolution": "1h",
            },
        )
    ).json()
    TimeseriesOut.model_validate(p95)  # the hand-built document is what the schema says
    assert p95["unit"] == "ms"
    assert p95["resolution"] == "1h"
    points = p95["points"]
    assert [p["count"] for p in points] == [3, 1]
    assert points[0]["t"].startswith(hour.strftime("%Y-%m-%dT%H:00:00"))
    assert 400 * 0.8 <= points[0]["value"] <= 400  # within a histogram bin, clamped to max
    assert points[1]["value"] == 1000
    rate = (
        await reader.get(
            "/api/v1/metrics/timeseries",
            params={
                "workflow": "checkout",
                "metric": "success_rate",
                "since": "6h",
                "resolution": "6h",
            },
        )
    ).json()
    assert rate["unit"] == "ratio"
    assert sum(p["count"] for p in rate["points"]) == 4
    minute = (
        await reader.get(
            "/api/v1/metrics/timeseries",
            params={
                "workflow": "checkout",
                "step": "home",
                "metric": "duration_p50",
                "since": "6h",
                "resolution": "1m",
            },
        )
    ).json()
    assert [p["value"] for p in minute["points"]] == [100, 200, 400, 1000]


BAD_SERIES: list[tuple[dict[str, Any], str | None]] = [
    ({"metric": "duration_p42"}, "query.metric"),
    ({"resolution": "7m"}, "query.resolution"),
    ({"resolution": "1m", "since": "30d"}, "query.resolution"),  # too many points
    ({"since": "1h", "until": "2h"}, "query.until"),
    ({}, None),  # the workflow is required
]


async def test_bad_timeseries_requests_are_422(api: Harness) -> None:
    reader = api.reader()
    for params, field in BAD_SERIES:
        query = {"workflow": "checkout", **params} if field else {}
        body = _problem(await reader.get("/api/v1/metrics/timeseries", params=query), 422)
        assert [e["field"] for e in body["errors"]] == [field or "query.workflow"], params
