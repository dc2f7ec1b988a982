"""Notification messages: a stable JSON schema, escaped HTML, overridable templates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from wfmon.alerts.messages import FACT_KEYS, SCHEMA, MessageRenderer, NoticeItem
from wfmon.domain.alert import AlertState, EventKind, Severity

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def item(
    workflow: str = "checkout", event: EventKind = EventKind.FIRED, **facts: object
) -> NoticeItem:
    state = AlertState.RESOLVED if event is EventKind.RESOLVED else AlertState.FIRING
    return NoticeItem(
        event_id=1,
        event=event,
        reason="failed_in_a_row",
        message="failed 2 runs in a row" if state.is_open else "succeeded 2 runs in a row",
        at=AT,
        actor="system",
        alert_id=3,
        dedup_key=f"consecutive_failures:{workflow}",
        rule="consecutive_failures",
        kind="consecutive_failures",
        severity=Severity.CRITICAL,
        state=state,
        summary="failed 2 runs in a row",
        workflow=workflow,
        facts={"step": "login", "expected": "== 200", "actual": 503, "runs": 2, **facts},
        url="http://127.0.0.1:8080/executions/9",
    )


def test_the_payload_schema_is_stable() -> None:
    message = MessageRenderer().render(
        delivery_id="7-1", channel="hook", group_key="shop", items=[item()]
    )
    payload = message.payload()

    assert set(payload) == {
        "schema", "delivery_id", "dedup_key", "channel", "group_key", "severity", "title",
        "text", "test", "items",
    }  # fmt: skip
    assert payload["schema"] == SCHEMA
    assert payload["dedup_key"] == "consecutive_failures:checkout"  # one alert: its own key
    alert = payload["items"][0]["alert"]
    assert set(FACT_KEYS) <= set(alert)
    assert (alert["step"], alert["expected"], alert["actual"]) == ("login", "== 200", 503)
    assert alert["url"] == "http://127.0.0.1:8080/executions/9"


def test_the_text_says_what_failed_where_since_when_and_links_the_execution() -> None:
    message = MessageRenderer().render(delivery_id="1", channel="c", group_key="g", items=[item()])
    assert message.title == "[CRITICAL] FIRING: checkout: failed 2 runs in a row"
    for words in ("step: login", "expected: == 200, actual: 503", "/executions/9"):
        assert words in message.text


def test_a_resolution_says_why_and_what_it_was() -> None:
    resolved = item(event=EventKind.RESOLVED)
    message = MessageRenderer().render(
        delivery_id="1", channel="c", group_key="g", items=[resolved]
    )
    assert message.title == (
        "[CRITICAL] RESOLVED: checkout: succeeded 2 runs in a row (was: failed 2 runs in a row)"
    )


def test_several_alerts_are_one_message_listing_them() -> None:
    items = [item(f"wf{i}") for i in range(20)]
    message = MessageRenderer().render(delivery_id="1", channel="c", group_key="shop", items=items)
    assert message.title == "[CRITICAL] 20 alerts for shop: 20 open, 0 resolved"
    assert message.dedup_key == "group:shop"
    assert all(f"wf{i}" in message.text for i in range(20))


def test_html_escapes_values_from_the_application() -> None:
    hostile = item(actual="<script>alert(1)</script>")
    message = MessageRenderer().render(delivery_id="1", channel="c", group_key="g", items=[hostile])
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "<script>" in message.text  # plain text is not HTML


def test_operators_can_override_one_template(tmp_path: Path) -> None:
    (tmp_path / "title.txt.j2").write_text("ALERT {{ items[0].workflow }}")
    message = MessageRenderer(tmp_path).render(
        delivery_id="1", channel="c", group_key="g", items=[item()]
    )
    assert message.title == "ALERT checkout"
    assert "step: login" in message.text  # the others are the built-in ones
