"""The daemon side of the API: the event log, rollups and retention, kept by bus
subscribers and background services whether or not the API itself is served."""

from __future__ import annotations

from wfmon.journal.retention import Cutoffs, PruneReport, Retention, RetentionPolicy
from wfmon.journal.writer import LIVE_KINDS, Journal, JournalOptions, event_data

__all__ = [
    "LIVE_KINDS",
    "Cutoffs",
    "Journal",
    "JournalOptions",
    "PruneReport",
    "Retention",
    "RetentionPolicy",
    "event_data",
]
