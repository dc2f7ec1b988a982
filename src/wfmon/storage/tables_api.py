"""Tables of the API: accounts, sessions, tokens, the event log and latency rollups.

On the same `metadata` as `tables.py`, created by migration `0003_api`; the migrations test
compares them like the others.
"""

from __future__ import annotations

import sqlalchemy as sa

from wfmon.storage.tables import BigId, JSONValue, UTCDateTime, metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("username", sa.Text(), nullable=False, unique=True),
    # scrypt$n$r$p$salt$hash (see api/auth/passwords.py); never the password itself.
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("role", sa.Text(), nullable=False),  # admin (read + write) | viewer (read)
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # Sessions older than this are void: a password change logs every browser out.
    sa.Column("password_changed_at", UTCDateTime(), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    # SHA-256 of the cookie value: a copy of the table cannot be replayed as a login.
    sa.Column("id_hash", sa.Text(), primary_key=True),
    sa.Column(
        "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("csrf_token", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),  # the absolute limit
    sa.Column("ip", sa.Text(), nullable=True),
    sa.Column("user_agent", sa.Text(), nullable=True),
    sa.Index("ix_sessions_user_id", "user_id"),
    sa.Index("ix_sessions_expires_at", "expires_at"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    # The visible start of the token (`wfm_ab12cd34`), to tell tokens apart in lists.
    sa.Column("prefix", sa.Text(), nullable=False, unique=True),
    sa.Column("token_hash", sa.Text(), nullable=False, unique=True),  # SHA-256, hex
    sa.Column("scope", sa.Text(), nullable=False),  # read | write
    sa.Column("created_by", sa.Text(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

# What live views missed while disconnected, and how a separate API process learns of
# events: the id is the SSE event id. Pruned after a day.
event_log = sa.Table(
    "event_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("data", JSONValue, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_event_log_created_at", "created_at"),
)


def _rollup(name: str) -> sa.Table:
    """Per (workflow, step, bucket): runs, outcomes and a latency histogram.

    `step` is "" for the workflow as a whole. Only runs with an outcome of the target's
    (succeeded, failed, error, timeout) are counted: missed, cancelled and aborted runs
    say nothing about latency or the target's health.
    """
    return sa.Table(
        name,
        metadata,
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("bucket", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("sum_ms", sa.Float(), nullable=False),
        sa.Column("min_ms", sa.Float(), nullable=True),
        sa.Column("max_ms", sa.Float(), nullable=True),
        sa.Column("histogram", JSONValue, nullable=False),  # {"bin": count}, non-empty bins
        sa.PrimaryKeyConstraint("workflow", "step", "bucket"),
        sa.Index(f"ix_{name}_bucket", "bucket"),  # retention, and "every workflow since"
        # On SQLite the rows live in the primary key's B-tree, so a chart's buckets are
        # neighbours on disk: 330 buckets of a 4-million-row table read in 0.5 ms, not 2.7.
        sqlite_with_rowid=False,
    )


rollups_minute = _rollup("rollups_minute")
rollups_hour = _rollup("rollups_hour")

# Small facts the API keeps about itself (e.g. that rollups were backfilled once).
api_state = sa.Table(
    "api_state",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# Children first, for tests that empty them.
API_TABLES = (sessions, api_tokens, users, event_log, rollups_minute, rollups_hour, api_state)
