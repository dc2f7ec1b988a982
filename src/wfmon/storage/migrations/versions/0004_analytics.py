"""Analytics: anomaly episodes, incidents, detector state.

Revision ID: 0004_analytics
Revises: 0001
Create Date: 2026-12-01

Self-contained on purpose: it must create this exact schema even after the tables move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004_analytics"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "analytics_anomalies",
        sa.Column("id", BIG_ID, autoincrement=True),
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        _when("started_at"),
        _when("ended_at", nullable=True),
        sa.Column("peak_score", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("expected_low", sa.Float(), nullable=False),
        sa.Column("expected_high", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_anomalies"),
        sa.UniqueConstraint(
            "workflow",
            "step",
            "metric",
            "started_at",
            name="uq_analytics_anomalies_workflow_step_metric_started_at",
        ),
    )
    op.create_index("ix_analytics_anomalies_started_at", "analytics_anomalies", ["started_at"])
    op.create_table(
        "analytics_incidents",
        sa.Column("id", BIG_ID, autoincrement=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        _when("started_at"),
        _when("last_at"),
        _when("ended_at", nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("workflows", JSON, nullable=False),
        sa.Column("endpoints", JSON, nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("example", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_incidents"),
        sa.UniqueConstraint("key", name="uq_analytics_incidents_key"),
    )
    op.create_index("ix_analytics_incidents_started_at", "analytics_incidents", ["started_at"])
    op.create_table(
        "analytics_state",
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("state", JSON, nullable=False),
        _when("last_at", nullable=True),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("workflow", name="pk_analytics_state"),
    )


def downgrade() -> None:
    op.drop_table("analytics_state")
    op.drop_table("analytics_incidents")
    op.drop_table("analytics_anomalies")
