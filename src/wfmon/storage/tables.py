"""The schema, as SQLAlchemy Core tables. Only storage/ knows these exist.

The migrations in `migrations/versions/` create the same schema; a test compares the two
(`test_migrations_match_the_table_definitions`) so they cannot drift apart silently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

# Named constraints: Alembic's batch mode on SQLite recreates tables and can only drop or
# alter a constraint it can name.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSONB on PostgreSQL (indexable, compact); JSON text elsewhere.
JSONValue = sa.JSON().with_variant(JSONB(), "postgresql")

# BIGSERIAL on PostgreSQL; on SQLite only a column declared exactly INTEGER PRIMARY KEY
# becomes the rowid and autoincrements, BIGINT would not.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zone type: values are stored as naive UTC text (which also sorts and
    compares correctly as text) and tagged UTC on the way out. PostgreSQL uses timestamptz.
    A naive datetime is refused rather than guessed at: its meaning depends on the host.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not UTC:
            if value.utcoffset() is None:
                raise ValueError(f"naive datetime {value!r}: wfmon stores timezone-aware times")
            value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)


workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False, unique=True),
    sa.Column("version", sa.Text(), nullable=False),
    sa.Column("definition", JSONValue, nullable=False),
    sa.Column("schedule", sa.Text(), nullable=False),
    sa.Column("tags", JSONValue, nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # Set when the workflow left the config: its executions stay browsable.
    sa.Column("removed_at", UTCDateTime(), nullable=True),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.Text(), nullable=False),
    sa.Column("location", sa.Text(), nullable=False),
    sa.Column("slot_at", UTCDateTime(), nullable=False),
    sa.Column("trigger", sa.Text(), nullable=False),  # schedule | manual | catch-up
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("duration_ms", sa.Float(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("workflow_version", sa.Text(), nullable=True),
    sa.Column("claimed_by", sa.Text(), nullable=True),  # which scheduler instance ran it
    # The idempotency key: a slot runs once however many schedulers or restarts see it.
    # Leading with `workflow`, it also serves lookups by workflow (no separate index).
    sa.UniqueConstraint("workflow", "location", "slot_at"),
    # Newest-first per workflow. Ascending on purpose: both engines scan a B-tree backwards
    # just as fast, and Alembic cannot compare a DESC index on SQLite (a false diff).
    sa.Index("ix_executions_workflow_started_at", "workflow", "started_at"),
    sa.Index("ix_executions_status", "status"),
    sa.Index("ix_executions_started_at", "started_at"),
)

step_results = sa.Table(
    "step_results",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "execution_id",
        BigId,
        sa.ForeignKey("executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("type", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("dns_ms", sa.Float(), nullable=True),
    sa.Column("connect_ms", sa.Float(), nullable=True),
    sa.Column("tls_ms", sa.Float(), nullable=True),
    sa.Column("ttfb_ms", sa.Float(), nullable=True),
    sa.Column("total_ms", sa.Float(), nullable=False),
    sa.Column("response_status", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    # [{check, operator, expected, actual, passed, message}, ...]
    sa.Column("assertions", JSONValue, nullable=False),
    sa.Column("extracted", JSONValue, nullable=False),
    sa.Column("request", JSONValue, nullable=False),
    sa.Column("response_headers", JSONValue, nullable=False),
    sa.Column("body_excerpt", sa.Text(), nullable=True),
    sa.Column("body_truncated", sa.Boolean(), nullable=False),
    sa.Column("redirects", JSONValue, nullable=False),
    # Also the index behind the foreign key (cascading deletes, loading an execution's steps).
    sa.UniqueConstraint("execution_id", "position"),
)

health_checks = sa.Table(
    "health_checks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("checked_at", UTCDateTime(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=True),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("data", JSONValue, nullable=False),
    sa.Index("ix_health_checks_name_checked_at", "name", "checked_at"),
    sa.Index("ix_health_checks_checked_at", "checked_at"),
)

# What a test or `wfmon db reset` empties, children first.
ALL_TABLES = (step_results, executions, workflows, health_checks)
