"""The resources: overview, workflows, executions, metrics, health checks, pages."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from api_support import XSS, Harness, execution, now_utc
from wfmon.domain.run import ExecutionStatus
from wfmon.events import Event
from wfmon.storage.rollups import floor_to


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


async def test_the_overview_has_health_counts_and_each_workflows_state(api: Harness) -> None:
    now = now_utc()
    await api.record(
        [
            execution(now - timedelta(minutes=30), duration_ms=120),
            execution(now - timedelta(minutes=20), status=ExecutionStatus.FAILED),
            execution(now - timedelta(minutes=10), workflow="private", duration_ms=50),
        ]
    )
    await api.app.health.add(now, "heartbeat", True, None, "up", {"instance": "test", "pid": 1})
    answer = await api.reader().get("/api/v1/overview")
    assert answer.status_code == 200
    body = answer.json()
    assert body["counts"]["workflows"] == 3
    assert body["counts"]["executions_24h"] == 3
    assert abs(body["counts"]["success_rate_24h"] - 2 / 3) < 1e-9
    assert body["counts"]["firing_alerts"] == 0
    assert body["system"]["daemon"]["alive"] is True
    assert body["system"]["level"] in ("HEALTHY", "DEGRADED", "DOWN", "UNKNOWN")
    states = {w["name"]: w for w in body["workflows"]}
    assert states["checkout"]["state"] == "failing"
    assert states["checkout"]["last_status"] == "failed"
    assert states["checkout"]["runs_24h"] == 2
    assert states["private"]["state"] == "passing"
    assert states[XSS]["state"] == "no_data"
    assert states["checkout"]["next_run_at"] is not None


async def test_a_workflow_named_like_a_script_is_plain_data_and_pages_escape_it(
    api: Harness,
) -> None:
    answer = await api.reader().get("/api/v1/workflows")
    assert answer.headers["content-type"] == "application/json"
    names = [w["name"] for w in answer.json()["items"]]
    assert XSS in names
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    # A "/" in a name (here "</script>") is part of the path, escaped or not.
    for path in (XSS.replace("/", "%2F"), XSS):
        detail = await api.reader().get("/api/v1/workflows/" + path)
        assert detail.status_code == 200, detail.text
        assert detail.json()["name"] == XSS
    started = await api.writer().post("/api/v1/workflows/" + XSS + "/run")
    assert started.status_code == 202, started.text


async def test_the_public_status_page_lists_only_public_workflows_escaped(api: Harness) -> None:
    # Make the script-named workflow public too, to see it escaped in the page.
    record = await api.app.workflows.get(XSS)
    assert record is not None
    from wfmon.storage.tables import workflows

    async with api.db.write() as conn:
        await conn.execute(
            workflows.update()
            .where(workflows.c.name == XSS)
            .values(definition={**record.definition, "public": True})
        )
    page = await api.client().get("/status")
    assert page.status_code == 200
    assert "checkout" in page.text
    assert "private" not in page.text
    assert XSS not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    data = (await api.client().get("/api/v1/public/status")).json()
    assert {w["name"] for w in data["workflows"]} == {"checkout", XSS}


async def test_a_workflow_shows_its_masked_definition_schedule_and_uptime(api: Harness) -> None:
    now = now_utc()
    await api.record(
        [
            execution(now - timedelta(hours=2)),
            execution(now - timedelta(days=3), status=ExecutionStatus.ERROR),
            execution(now - timedelta(days=10)),
        ]
    )
    body = (await api.reader().get("/api/v1/workflows/checkout")).json()
    headers = body["definition"]["steps"][0]["headers"]
    assert headers["Authorization"] == "***"
    assert "literal-secret-123" not in str(body)
    assert body["schedule"]["cron"] == "*/5 * * * *"
    assert body["schedule"]["words"] == "every 5 minutes"
    assert body["next_run_at"] is not None
    assert body["public"] is True
    assert body["uptime"]["h24"] == {"runs": 1, "succeeded": 1, "ratio": 1.0}
    assert body["uptime"]["d7"]["runs"] == 2
    assert body["uptime"]["d30"] == {"runs": 3, "succeeded": 2, "ratio": 2 / 3}
    assert body["steps"] == ["home"]
    assert len(body["latest_executions"]) == 3


async def test_an_unknown_workflow_is_a_404_problem(api: Harness) -> None:
    body = _problem(await api.reader().get("/api/v1/workflows/nope"), 404)
    assert "nope" in body["detail"]


async def test_run_now_answers_202_and_records_a_manual_execution(api: Harness) -> None:
    finished = asyncio.Event()
    seen: list[Event] = []

    async def on_finished(event: Event) -> None:
        seen.append(event)
        finished.set()

    api.bus.subscribe(on_finished, "execution.finished")
    answer = await api.writer().post("/api/v1/workflows/checkout/run")
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "running"
    assert answer.headers["location"] == body["href"]
    await asyncio.wait_for(finished.wait(), 10)
    assert seen[0].data["id"] == body["execution_id"]
    detail = (await api.reader().get(body["href"])).json()
    assert detail["trigger"] == "manual"
    assert detail["status"] == "succeeded"
    assert detail["steps"][0]["response_status"] == 200


async def test_run_now_of_an_unknown_workflow_is_404(api: Harness) -> None:
    _problem(await api.writer().post("/api/v1/workflows/nope/run"), 404)
    bad = await api.writer().post("/api/v1/workflows/checkout/run", params={"location": "mars"})
    _problem(bad, 422)


async def test_an_execution_shows_steps_timings_and_masked_values(api: Harness) -> None:
    [execution_id] = await api.record([execution(now_utc() - timedelta(minutes=1))])
    body = (await api.reader().get(f"/api/v1/executions/{execution_id}")).json()
    step = body["steps"][0]
    assert step["timings"]["total_ms"] == 100.0
    assert step["timings"]["ttfb_ms"] == 30.0
    assert step["extracted"] == {"token": "***", "order_id": 42}
    assert "k-123456" not in step["request"]["url"]
    assert step["response_headers"]["Set-Cookie"] == "***"
    assert step["body_excerpt"] == '{"ok": true}'


async def test_an_unknown_execution_is_404_and_a_bad_id_422(api: Harness) -> None:
    _problem(await api.reader().get("/api/v1/executions/999999"), 404)
    body = _problem(await api.reader().get("/api/v1/executions/abc"), 422)
    assert body["errors"][0]["field"] == "path.execution_id"


async def test_health_checks_show_the_latest_of_each_and_the_recent_ones(api: Harness) -> None:
    now = now_utc()
    await api.app.health.add(now - timedelta(minutes=10), "database", True, 1.0, "ok")
    await api.app.health.add(now - timedelta(minutes=5), "database", False, None, "down")
    await api.app.health.add(now - timedelta(minutes=5), "disk", True, None, "plenty")
    body = (await api.reader().get("/api/v1/health-checks")).json()
    latest = {c["name"]: c for c in body["latest"]}
    assert latest["database"]["ok"] is False
    assert latest["disk"]["ok"] is True
    assert len(body["items"]) == 3
    one = (await api.reader().get("/api/v1/health-checks", params={"name": "disk"})).json()
    assert [c["name"] for c in one["items"]] == ["disk"]


async def test_prometheus_metrics_are_token_protected_and_count_executions(api: Harness) -> None:
    assert (await api.client().get("/metrics")).status_code == 401
    now = now_utc()
    result = execution(now, duration_ms=250)
    [execution_id] = await api.record([result])
    await api.publish("execution.finished", {"id": execution_id}, result)
    await api.services.hub.poll_once()
    answer = await api.reader().get("/metrics")
    assert answer.status_code == 200
    text = answer.text
    assert 'wfmon_executions_total{status="succeeded",workflow="checkout"} 1.0' in text
    assert 'wfmon_workflow_up{workflow="checkout"} 1.0' in text
    assert "wfmon_execution_duration_seconds_bucket" in text
    assert 'wfmon_step_duration_seconds_count{step="home",workflow="checkout"} 1.0' in text
    assert "wfmon_notification_outbox_depth 0.0" in text
    assert "wfmon_alerts_firing 0.0" in text


async def test_unknown_paths_and_methods_are_problems_too(api: Harness) -> None:
    _problem(await api.reader().get("/api/v1/nothing-here"), 404)
    _problem(await api.reader().delete("/api/v1/overview"), 405)


async def test_readiness_reports_the_database(api: Harness) -> None:
    body = (await api.client().get("/readyz")).json()
    assert body["status"] == "ready"
    assert body["database"] == "sqlite"


async def test_the_api_docs_and_schema_need_a_login(api: Harness) -> None:
    assert (await api.client().get("/api/openapi.json")).status_code == 401
    client, _ = await api.session()
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    assert "http" not in policy  # no third-party origin: the reference works offline
    assert "GET /api/v1/executions" in docs.text
    schema = (await client.get("/api/openapi.json")).json()
    assert "/api/v1/executions" in schema["paths"]
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()


async def test_hourly_uptime_buckets_line_up_with_the_hour(api: Harness) -> None:
    now = now_utc()
    hour = floor_to(now, "hour")
    await api.record([execution(hour + timedelta(seconds=1))])
    body = (await api.reader().get("/api/v1/workflows/checkout")).json()
    assert body["uptime"]["h24"]["runs"] == 1
