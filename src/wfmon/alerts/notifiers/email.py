"""The email channel: SMTP (aiosmtplib), a text part and an HTML part.

SMTP's own codes decide retries: 5xx is permanent (no such mailbox, authentication
refused), 4xx and connection failures are transient. The Message-ID is derived from the
delivery id, so a message re-sent after a crash threads with (or is deduped against) the
first copy by the mail client.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from wfmon.alerts.messages import Message
from wfmon.alerts.notifiers.base import (
    ChannelBase,
    Delivery,
    SendContext,
    excerpt,
    masked,
    resolve_env,
)
from wfmon.errors import NotifierError


class EmailChannel(ChannelBase):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = None  # usually ${env:NAME}
    sender: str = Field(alias="from")
    to: tuple[str, ...] = Field(min_length=1)

    secret_fields: ClassVar[frozenset[str]] = frozenset({"password"})

    async def send(self, message: Message, ctx: SendContext) -> Delivery:
        import aiosmtplib

        password = resolve_env(self.password, ctx.environ) if self.password else None
        username = resolve_env(self.username, ctx.environ) if self.username else None
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        mail["Message-ID"] = f"<wfmon-delivery-{message.delivery_id}@wfmon.invalid>"
        mail["X-Wfmon-Delivery"] = message.delivery_id
        mail["X-Wfmon-Dedup-Key"] = message.dedup_key
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        try:
            _refused, answer = await aiosmtplib.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=username,
                password=password,
                use_tls=self.security == "tls",
                start_tls=self.security == "starttls",
                timeout=min(self.timeout, ctx.timeout_s),
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [r.code for r in error.recipients]
            text = "every recipient refused: " + "; ".join(str(r) for r in error.recipients)
            permanent = bool(codes) and all(code >= 500 for code in codes)
            status = max(codes, default=None)
            raise NotifierError(text, permanent=permanent, status=status) from error
        except aiosmtplib.SMTPResponseException as error:
            text = masked(f"SMTP {error.code}: {error.message}", [password or ""])
            raise NotifierError(text, permanent=error.code >= 500, status=error.code) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            text = masked(f"{type(error).__name__}: {error}", [password or ""])
            raise NotifierError(text, permanent=False) from error
        return Delivery(250, excerpt(str(answer)))
