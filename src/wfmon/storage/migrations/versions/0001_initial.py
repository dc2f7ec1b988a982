"""Initial schema: workflows, executions, step results, health checks.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Self-contained on purpose: it must create this exact schema even after tables.py moves on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowid alias


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _when("removed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_workflows"),
        sa.UniqueConstraint("name", name="uq_workflows_name"),
    )

    op.create_table(
        "executions",
        sa.Column("id", BIG_ID, autoincrement=True),
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        _when("slot_at"),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("started_at"),
        _when("finished_at", nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("workflow_version", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
        sa.UniqueConstraint(
            "workflow", "location", "slot_at", name="uq_executions_workflow_location_slot_at"
        ),
    )
    op.create_index("ix_executions_workflow_started_at", "executions", ["workflow", "started_at"])
    op.create_index("ix_executions_status", "executions", ["status"])
    op.create_index("ix_executions_started_at", "executions", ["started_at"])

    op.create_table(
        "step_results",
        sa.Column("id", BIG_ID, autoincrement=True),
        sa.Column("execution_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        _when("started_at"),
        sa.Column("dns_ms", sa.Float(), nullable=True),
        sa.Column("connect_ms", sa.Float(), nullable=True),
        sa.Column("tls_ms", sa.Float(), nullable=True),
        sa.Column("ttfb_ms", sa.Float(), nullable=True),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("assertions", JSON, nullable=False),
        sa.Column("extracted", JSON, nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("response_headers", JSON, nullable=False),
        sa.Column("body_excerpt", sa.Text(), nullable=True),
        sa.Column("body_truncated", sa.Boolean(), nullable=False),
        sa.Column("redirects", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_step_results"),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name="fk_step_results_execution_id_executions",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "execution_id", "position", name="uq_step_results_execution_id_position"
        ),
    )

    op.create_table(
        "health_checks",
        sa.Column("id", BIG_ID, autoincrement=True),
        _when("checked_at"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_health_checks"),
    )
    op.create_index("ix_health_checks_name_checked_at", "health_checks", ["name", "checked_at"])
    op.create_index("ix_health_checks_checked_at", "health_checks", ["checked_at"])


def downgrade() -> None:
    op.drop_table("health_checks")
    op.drop_table("step_results")
    op.drop_table("executions")
    op.drop_table("workflows")
