"""Alerts and silences through the API (alerting's operator underneath)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api_support import Harness, firing_alert, now_utc
from wfmon.events import Event


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


async def test_alerts_are_listed_acknowledged_resolved_and_audited(api: Harness) -> None:
    alert_id = await firing_alert(api)
    changed: list[Event] = []

    async def on_change(event: Event) -> None:
        changed.append(event)

    api.bus.subscribe(on_change, "alert.changed")
    reader, writer = api.reader(), api.writer()
    firing = (await reader.get("/api/v1/alerts", params={"state": "firing"})).json()
    assert [a["id"] for a in firing["items"]] == [alert_id]
    assert (await reader.get("/api/v1/alerts", params={"state": "resolved"})).json()["items"] == []
    overview = (await reader.get("/api/v1/overview")).json()
    assert overview["counts"]["firing_alerts"] == 1

    _problem(await reader.post(f"/api/v1/alerts/{alert_id}/ack"), 403)
    ack = await writer.post(f"/api/v1/alerts/{alert_id}/ack", json={"note": "on it"})
    assert ack.status_code == 200, ack.text
    body = ack.json()
    assert body["changed"] is True
    assert body["alert"]["state"] == "acknowledged"
    assert body["alert"]["acknowledged_by"] == "token:ci"
    again = (await writer.post(f"/api/v1/alerts/{alert_id}/ack")).json()
    assert again["changed"] is False

    resolved = (await writer.post(f"/api/v1/alerts/{alert_id}/resolve")).json()
    assert resolved["alert"]["state"] == "resolved"
    trail = (await reader.get(f"/api/v1/alerts/{alert_id}/events")).json()["items"]
    assert [e["to_state"] for e in trail] == ["firing", "acknowledged", "resolved"]
    assert trail[1]["actor"] == "token:ci"
    assert trail[1]["note"] == "on it"
    assert [e.data["to"] for e in changed] == ["acknowledged", "resolved"]


async def test_unknown_alerts_are_404(api: Harness) -> None:
    _problem(await api.reader().get("/api/v1/alerts/12345"), 404)
    _problem(await api.reader().get("/api/v1/alerts/12345/events"), 404)
    _problem(await api.writer().post("/api/v1/alerts/12345/ack"), 404)


async def test_silences_can_be_created_read_and_ended(api: Harness) -> None:
    writer = api.writer()
    now = now_utc()
    created = await writer.post(
        "/api/v1/silences",
        json={
            "comment": "maintenance",
            "workflows": ["checkout-*"],
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["source"] == "api"
    assert silence["workflows"] == ["checkout-*"]
    listed = (await writer.get("/api/v1/silences")).json()["items"]
    assert [s["id"] for s in listed] == [silence["id"]]
    assert (await writer.get(f"/api/v1/silences/{silence['id']}")).json()[
        "comment"
    ] == "maintenance"
    assert (await writer.delete(f"/api/v1/silences/{silence['id']}")).status_code == 204
    _problem(await writer.delete(f"/api/v1/silences/{silence['id']}"), 404)
    assert (await writer.get("/api/v1/silences")).json()["items"] == []
    ended = (await writer.get("/api/v1/silences", params={"include_expired": True})).json()
    assert ended["items"][0]["expired_at"] is not None


async def test_impossible_silences_are_422(api: Harness) -> None:
    writer = api.writer()
    now = now_utc()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"comment": "x", "starts_at": now.isoformat(), "ends_at": now.isoformat()}, "body"),
        ({"comment": "", "cron": "0 2 * * *", "duration_s": 60}, "body.comment"),
        ({"comment": "x", "cron": "not cron", "duration_s": 60}, "body"),
        ({"comment": "x", "starts_at": "2026-01-01T00:00:00"}, "body.starts_at"),  # naive
        ({"comment": "x", "bogus": 1}, "body.bogus"),
    ]
    for body, field in cases:
        answer = _problem(await writer.post("/api/v1/silences", json=body), 422)
        assert answer["errors"][0]["field"] == field, body
