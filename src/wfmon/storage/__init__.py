"""Storage: SQLite or PostgreSQL through SQLAlchemy Core, migrated by Alembic.

The composition root calls `open_database(settings.database_url)` and builds the
repositories on the `Database` it returns; only this package knows SQL.
"""

from __future__ import annotations

from wfmon.storage.db import Database, DialectName, open_database
from wfmon.storage.executions import ExecutionRepository
from wfmon.storage.health import HealthCheckRepository
from wfmon.storage.recorder import BatchRecorder, RecorderClosed
from wfmon.storage.records import (
    ExecutionDetail,
    ExecutionSummary,
    HealthCheckRecord,
    StoredStep,
    WorkflowRecord,
)
from wfmon.storage.workflows import SyncReport, WorkflowRepository

__all__ = [
    "BatchRecorder",
    "Database",
    "DialectName",
    "ExecutionDetail",
    "ExecutionRepository",
    "ExecutionSummary",
    "HealthCheckRecord",
    "HealthCheckRepository",
    "RecorderClosed",
    "StoredStep",
    "SyncReport",
    "WorkflowRecord",
    "WorkflowRepository",
    "open_database",
]
