"""What a notification says: the items of one outbox batch, rendered from templates.

The JSON payload (webhook) has a stable, versioned schema (`wfmon.notification/1`): fields
are only ever added. Text and HTML come from Jinja2 templates in `templates/`, which an
operator can override one by one (`alerts.templates: DIR`); the HTML environment escapes
everything, since assertion values and errors come from the monitored application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from wfmon.domain.alert import AlertState, EventKind, Severity

SCHEMA = "wfmon.notification/1"
TEMPLATES = ("title.txt.j2", "body.txt.j2", "body.html.j2")
# Alerts listed one by one in text and HTML; chat services cut long messages, and 1,000
# lines help nobody. The webhook's JSON always carries every item.
TEXT_LIMIT = 50


@dataclass(frozen=True)
class NoticeItem:
    """One alert event in a notification, with the facts it was raised on."""

    event_id: int
    event: EventKind
    reason: str
    message: str
    at: datetime
    actor: str
    alert_id: int
    dedup_key: str
    rule: str
    kind: str
    severity: Severity
    state: AlertState
    summary: str
    workflow: str | None = None
    location: str | None = None
    note: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event": self.event.value,
            "reason": self.reason,
            "message": self.message,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "note": self.note,
            "alert": {
                "id": self.alert_id,
                "dedup_key": self.dedup_key,
                "rule": self.rule,
                "kind": self.kind,
                "severity": self.severity.value,
                "state": self.state.value,
                "summary": self.summary,
                "workflow": self.workflow,
                "location": self.location,
                "url": self.url,
                **{k: self.facts.get(k) for k in FACT_KEYS},
            },
        }


# Facts every item carries in the payload (None when they do not apply).
FACT_KEYS = ("step", "expected", "actual", "error", "since", "runs", "execution_id")


@dataclass(frozen=True)
class Message:
    """One delivery: what every channel kind sends, in its own shape."""

    delivery_id: str  # the same on every attempt and after a crash: receivers dedupe on it
    dedup_key: str  # the alert's key, or `group:<key>` for several alerts
    channel: str
    group_key: str
    items: tuple[NoticeItem, ...]
    title: str
    text: str
    html: str
    test: bool = False

    @property
    def severity(self) -> Severity:
        return min((i.severity for i in self.items), key=lambda s: s.rank, default=Severity.INFO)

    def payload(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "delivery_id": self.delivery_id,
            "dedup_key": self.dedup_key,
            "channel": self.channel,
            "group_key": self.group_key,
            "severity": self.severity.value,
            "title": self.title,
            "text": self.text,
            "test": self.test,
            "items": [i.to_json() for i in self.items],
        }


class MessageRenderer:
    """Renders messages; templates in `override_dir` win over the packaged ones."""

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[Any] = [PackageLoader("wfmon.alerts", "templates")]
        if override_dir is not None:
            loaders.insert(0, FileSystemLoader(str(override_dir)))
        # Sandboxed: an override template is config, and config must not reach Python.
        self._env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(
        self,
        *,
        delivery_id: str,
        channel: str,
        group_key: str,
        items: Sequence[NoticeItem],
        test: bool = False,
    ) -> Message:
        ordered = tuple(sorted(items, key=lambda i: (i.severity.rank, i.workflow or "", i.rule)))
        if test:
            dedup = f"test:{channel}"
        elif len(ordered) == 1:
            dedup = ordered[0].dedup_key
        else:
            dedup = f"group:{group_key}"
        context = {
            "items": ordered,
            "group_key": group_key,
            "test": test,
            "count": len(ordered),
            "limit": TEXT_LIMIT,
        }
        title, text, html = (
            self._env.get_template(name).render(context).strip() for name in TEMPLATES
        )
        return Message(
            delivery_id=delivery_id,
            dedup_key=dedup,
            channel=channel,
            group_key=group_key,
            items=ordered,
            title=title,
            text=text,
            html=html,
            test=test,
        )
