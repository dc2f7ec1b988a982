"""The Apprise channel: Slack, Discord, Teams, Telegram, PagerDuty, Opsgenie, ntfy, email
and 90-odd more services, each named by one URL (https://github.com/caronc/apprise/wiki).

Apprise reports a failed delivery in its log entries ("..., error=401."): the status code
found there decides whether a retry can help, like the webhook's. A URL Apprise does not
understand is permanent; a failure without a code (a refused connection) is transient.
"""

from __future__ import annotations

import logging
import re
from typing import ClassVar, Literal

from wfmon.alerts.messages import Message
from wfmon.alerts.notifiers.base import (
    ChannelBase,
    Delivery,
    SendContext,
    excerpt,
    http_is_permanent,
    masked,
    resolve_env,
)
from wfmon.domain.alert import AlertState, Severity
from wfmon.errors import NotifierError

_STATUS = re.compile(r"error=(\d{3})\b")


class AppriseChannel(ChannelBase):
    kind: Literal["apprise"]
    url: str  # an Apprise URL, usually ${env:NAME}: it often carries a token

    secret_fields: ClassVar[frozenset[str]] = frozenset({"url"})

    async def send(self, message: Message, ctx: SendContext) -> Delivery:
        import apprise  # imported on first use: most configs never send through it

        url = resolve_env(self.url, ctx.environ)
        notifier = apprise.Apprise()
        if not notifier.add(url):
            raise NotifierError("Apprise does not understand this URL", permanent=True)
        result = await notifier.async_notify(
            body=message.text,
            title=message.title,
            notify_type=_notify_type(message),
            timeout=min(self.timeout, ctx.timeout_s),
            log_level=logging.INFO,
        )
        lines = [masked(str(entry.message), [url]) for entry in result.logs()]
        answer = excerpt("; ".join(lines))
        if result:
            return Delivery(None, answer or "accepted")
        codes = [int(m.group(1)) for line in lines for m in _STATUS.finditer(line)]
        status = codes[-1] if codes else None
        raise NotifierError(
            answer or "Apprise could not deliver the notification",
            permanent=status is not None and http_is_permanent(status),
            status=status,
        )


def _notify_type(message: Message) -> str:
    if message.test:
        return "info"
    if all(item.state is AlertState.RESOLVED for item in message.items):
        return "success"
    if message.severity in (Severity.CRITICAL,):
        return "failure"
    return "warning"
