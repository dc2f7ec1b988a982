"""Storage: SQLite or PostgreSQL through SQLAlchemy Core, migrated by Alembic.

The composition root calls `open_database(settings.database_url)` and builds the
repositories on the `Database` it returns; only this package knows SQL.
"""

from __future__ import annotations

# Registers the API's tables on the shared metadata (the migrations test compares them).
from wfmon.storage import tables_analytics as tables_analytics
from wfmon.storage import tables_api as tables_api
from wfmon.storage.alerts import AlertRepository
from wfmon.storage.db import Database, DialectName, open_database
from wfmon.storage.executions import ExecutionRepository
from wfmon.storage.health import HealthCheckRepository
from wfmon.storage.outbox import OutboxRepository
from wfmon.storage.recorder import BatchRecorder, RecorderClosed
from wfmon.storage.records import (
    ExecutionDetail,
    ExecutionSummary,
    HealthCheckRecord,
    StoredStep,
    WorkflowRecord,
)
from wfmon.storage.silences import SilenceRepository
from wfmon.storage.workflows import SyncReport, WorkflowRepository

__all__ = [
    "AlertRepository",
    "BatchRecorder",
    "Database",
    "DialectName",
    "ExecutionDetail",
    "ExecutionRepository",
    "ExecutionSummary",
    "HealthCheckRecord",
    "HealthCheckRepository",
    "OutboxRepository",
    "RecorderClosed",
    "SilenceRepository",
    "StoredStep",
    "SyncReport",
    "WorkflowRecord",
    "WorkflowRepository",
    "open_database",
]
