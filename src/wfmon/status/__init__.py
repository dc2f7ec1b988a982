"""`wfmon status`: gather facts from the database (`facts`), judge them with pure
functions (`assess`), and show them (`render`)."""

from __future__ import annotations

from wfmon.status.assess import Assessment, Level, Reason, Thresholds, assess, recommend
from wfmon.status.facts import StatusFacts, gather

__all__ = [
    "Assessment",
    "Level",
    "Reason",
    "StatusFacts",
    "Thresholds",
    "assess",
    "gather",
    "recommend",
]
