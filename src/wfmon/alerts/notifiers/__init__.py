"""The channel-kind registry: one module, one class, one line here.

The config schema builds the `channels:` union from this dict, `wfmon notify test` and the
outbox sender look kinds up in it, and `tests/contracts/test_notifiers.py` runs every entry
through the same cases.
"""

from __future__ import annotations

from wfmon.alerts.notifiers.apprise import AppriseChannel
from wfmon.alerts.notifiers.base import ChannelBase, Delivery, SendContext
from wfmon.alerts.notifiers.email import EmailChannel
from wfmon.alerts.notifiers.webhook import WebhookChannel

CHANNEL_KINDS: dict[str, type[ChannelBase]] = {
    "apprise": AppriseChannel,
    "webhook": WebhookChannel,
    "email": EmailChannel,
}

__all__ = ["CHANNEL_KINDS", "ChannelBase", "Delivery", "SendContext"]
