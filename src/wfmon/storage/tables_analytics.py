"""The analytics tables: anomaly episodes, incidents, and each workflow's detector state.

On the same `metadata` as tables.py (imported by `wfmon.storage`, so the migration check
sees them); created by migration 0004_analytics.
"""

from __future__ import annotations

import sqlalchemy as sa

from wfmon.storage.tables import BigId, JSONValue, UTCDateTime, metadata

anomalies = sa.Table(
    "analytics_anomalies",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.Text(), nullable=False),
    sa.Column("step", sa.Text(), nullable=False),  # "" for the workflow itself
    sa.Column("metric", sa.Text(), nullable=False),  # duration | ttfb | success
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),  # NULL while open
    sa.Column("peak_score", sa.Float(), nullable=False),
    sa.Column("value", sa.Float(), nullable=False),
    sa.Column("expected_low", sa.Float(), nullable=False),
    sa.Column("expected_high", sa.Float(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    # One row per episode: opening and closing it are upserts on this key, so a replay after
    # a restart cannot store an episode twice.
    sa.UniqueConstraint("workflow", "step", "metric", "started_at"),
    sa.Index("ix_analytics_anomalies_started_at", "started_at"),
)

incidents = sa.Table(
    "analytics_incidents",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text(), nullable=False, unique=True),
    sa.Column("host", sa.Text(), nullable=False),
    sa.Column("cause", sa.Text(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("last_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("workflows", JSONValue, nullable=False),
    sa.Column("endpoints", JSONValue, nullable=False),
    sa.Column("steps", JSONValue, nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("example", sa.Text(), nullable=True),
    sa.Index("ix_analytics_incidents_started_at", "started_at"),
)

detector_state = sa.Table(
    "analytics_state",
    metadata,
    sa.Column("workflow", sa.Text(), primary_key=True),
    sa.Column("state", JSONValue, nullable=False),
    sa.Column("last_at", UTCDateTime(), nullable=True),  # the last run the state has seen
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

ANALYTICS_TABLES = (anomalies, incidents, detector_state)
