"""Alerting: alerts, alert events (the audit trail), the notification outbox, silences.

Revision ID: 0002_alerts
Revises: 0001
Create Date: 2026-11-29

A branch from 0001: other features add theirs beside it, and `Database.upgrade()` applies
every head. Self-contained on purpose, like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002_alerts"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowid alias


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", BIG_ID, autoincrement=True),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("workflow", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        _when("opened_at"),
        _when("changed_at"),
        sa.Column("acknowledged_by", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("notified_state", sa.Text(), nullable=True),
        _when("notified_at", nullable=True),
        sa.Column("muted_by", sa.Text(), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("dedup_key", "episode", name="uq_alerts_dedup_key_episode"),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_workflow", "alerts", ["workflow"])

    op.create_table(
        "alert_events",
        sa.Column("id", BIG_ID, autoincrement=True),
        sa.Column("alert_id", BIG_ID, nullable=False),
        _when("at"),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=True),
        sa.Column("to_state", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("execution_ids", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name="fk_alert_events_alert_id_alerts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    op.create_index("ix_alert_events_at", "alert_events", ["at"])

    op.create_table(
        "notifications",
        sa.Column("id", BIG_ID, autoincrement=True),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("alert_id", BIG_ID, nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        _when("created_at"),
        _when("due_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("batch_id", BIG_ID, nullable=True),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        _when("claimed_until", nullable=True),
        _when("sent_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["alert_events.id"],
            name="fk_notifications_event_id_alert_events",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_notifications_status_due_at", "notifications", ["status", "due_at"])
    op.create_index("ix_notifications_batch_id", "notifications", ["batch_id"])
    op.create_index("ix_notifications_event_id", "notifications", ["event_id"])
    op.create_index("ix_notifications_alert_id", "notifications", ["alert_id"])

    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("workflows", JSON, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("locations", JSON, nullable=False),
        _when("starts_at", nullable=True),
        _when("ends_at", nullable=True),
        sa.Column("cron", sa.Text(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _when("created_at"),
        _when("expired_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
        sa.UniqueConstraint("source", "name", name="uq_silences_source_name"),
    )


def downgrade() -> None:
    op.drop_table("silences")
    op.drop_table("notifications")
    op.drop_table("alert_events")
    op.drop_table("alerts")
