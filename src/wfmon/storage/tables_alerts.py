"""Alerting's tables, on the same `metadata` as tables.py (migration 0002_alerts).

`alerts` holds one row per episode of a problem, `alert_events` the audit trail of every
change, `notifications` the outbox (one row per alert event and channel), `silences` the
windows that hold notifications.
"""

from __future__ import annotations

import sqlalchemy as sa

from wfmon.storage.tables import JSONValue, UTCDateTime, metadata

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.Text(), nullable=False),  # rule:workflow[@location]
    sa.Column("episode", sa.Integer(), nullable=False),  # 1, 2, ... per dedup key
    sa.Column("rule", sa.Text(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("severity", sa.Text(), nullable=False),
    sa.Column("state", sa.Text(), nullable=False),  # firing | acknowledged | resolved
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("workflow", sa.Text(), nullable=True),  # None: about wfmon itself
    sa.Column("location", sa.Text(), nullable=True),
    sa.Column("group_key", sa.Text(), nullable=False),
    sa.Column("tags", JSONValue, nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("changed_at", UTCDateTime(), nullable=False),
    sa.Column("acknowledged_by", sa.Text(), nullable=True),
    sa.Column("resolved_by", sa.Text(), nullable=True),
    # What receivers were last told (firing or resolved) and when: a silence or flapping
    # holds notices back, and the difference is what goes out when it ends.
    sa.Column("notified_state", sa.Text(), nullable=True),
    sa.Column("notified_at", UTCDateTime(), nullable=True),
    sa.Column("muted_by", sa.Text(), nullable=True),
    sa.Column("details", JSONValue, nullable=False),
    # Optimistic concurrency: every update says which version it read.
    sa.Column("version", sa.Integer(), nullable=False),
    # One row per episode; a second daemon racing to open the same one loses here.
    sa.UniqueConstraint("dedup_key", "episode"),
    sa.Index("ix_alerts_state", "state"),
    sa.Index("ix_alerts_workflow", "workflow"),
)

alert_events = sa.Table(
    "alert_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("alert_id", BigId, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.Text(), nullable=False),  # system | cli:user | token:name
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("from_state", sa.Text(), nullable=True),
    sa.Column("to_state", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),  # a stable code
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("execution_ids", JSONValue, nullable=False),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("data", JSONValue, nullable=False),  # the facts the notice shows
    sa.Index("ix_alert_events_alert_id", "alert_id"),
    sa.Index("ix_alert_events_at", "at"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "event_id",
        BigId,
        sa.ForeignKey("alert_events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("alert_id", BigId, nullable=False),
    sa.Column("channel", sa.Text(), nullable=False),  # the name only: never a URL or secret
    sa.Column("group_key", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),  # pending | sent | dead
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),  # the next attempt
    sa.Column("attempts", sa.Integer(), nullable=False),
    # Rows sent together share a batch (the smallest id among them), fixed at the first
    # claim: a retry or a re-send after a crash carries the same rows and delivery id.
    sa.Column("batch_id", BigId, nullable=True),
    sa.Column("claimed_by", sa.Text(), nullable=True),
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("last_code", sa.Integer(), nullable=True),
    sa.Column("answer", sa.Text(), nullable=True),
    sa.Index("ix_notifications_status_due_at", "status", "due_at"),
    sa.Index("ix_notifications_batch_id", "batch_id"),
    sa.Index("ix_notifications_event_id", "event_id"),
    sa.Index("ix_notifications_alert_id", "alert_id"),
)

silences = sa.Table(
    "silences",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=True),
    sa.Column("source", sa.Text(), nullable=False),  # config | cli | api
    sa.Column("workflows", JSONValue, nullable=False),
    sa.Column("tags", JSONValue, nullable=False),
    sa.Column("locations", JSONValue, nullable=False),
    sa.Column("starts_at", UTCDateTime(), nullable=True),
    sa.Column("ends_at", UTCDateTime(), nullable=True),
    sa.Column("cron", sa.Text(), nullable=True),
    sa.Column("duration_s", sa.Float(), nullable=True),
    sa.Column("timezone", sa.Text(), nullable=False),
    sa.Column("author", sa.Text(), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expired_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("source", "name"),
)

# Children first, for deleting.
ALERT_TABLES = (notifications, alert_events, alerts, silences)
