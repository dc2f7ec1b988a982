"""The webhook channel: the message as JSON (schema `wfmon.notification/1`), POSTed.

Headers on every request: `X-Wfmon-Delivery` (the same on every attempt of one delivery,
after a crash too: receivers dedupe on it), `X-Wfmon-Dedup-Key`, `X-Wfmon-Attempt`, and with
a `secret` `X-Wfmon-Signature: sha256=<hex>`, an HMAC-SHA256 of the exact body bytes.
Redirects are not followed: a POST redirected is a misconfigured URL, not a delivery.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar, Literal

import aiohttp
import orjson
from pydantic import Field

from wfmon.alerts.messages import Message
from wfmon.alerts.notifiers.base import (
    ChannelBase,
    Delivery,
    SendContext,
    excerpt,
    http_is_permanent,
    masked,
    parse_retry_after,
    resolve_env,
)
from wfmon.errors import NotifierError

SIGNATURE_HEADER = "X-Wfmon-Signature"


def signature(secret: str, body: bytes) -> str:
    """The value of X-Wfmon-Signature for `body` (receivers compute the same and compare
    with `hmac.compare_digest`)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel(ChannelBase):
    kind: Literal["webhook"]
    url: str
    secret: str | None = None  # usually ${env:NAME}
    headers: dict[str, str] = Field(default_factory=dict)

    secret_fields: ClassVar[frozenset[str]] = frozenset({"url", "secret", "headers"})

    async def send(self, message: Message, ctx: SendContext) -> Delivery:
        url = resolve_env(self.url, ctx.environ)
        secret = resolve_env(self.secret, ctx.environ) if self.secret else None
        headers = {k: resolve_env(v, ctx.environ) for k, v in self.headers.items()}
        hidden = [url, secret or "", *headers.values()]
        body = orjson.dumps(message.payload())
        headers.update(
            {
                "Content-Type": "application/json",
                "X-Wfmon-Delivery": message.delivery_id,
                "X-Wfmon-Dedup-Key": message.dedup_key,
            }
        )
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, body)
        try:
            async with ctx.http.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=min(self.timeout, ctx.timeout_s)),
            ) as resp:
                answer = excerpt(masked((await resp.text(errors="replace")), hidden))
                status = resp.status
                retry_after = parse_retry_after(
                    resp.headers.get("Retry-After"), ctx.clock.now().timestamp()
                )
        except TimeoutError as error:
            raise NotifierError(f"no answer in {self.timeout:g} s", permanent=False) from error
        except aiohttp.InvalidURL as error:
            raise NotifierError("invalid webhook URL", permanent=True) from error
        except aiohttp.ClientError as error:
            text = masked(f"{type(error).__name__}: {error}", hidden)
            raise NotifierError(text, permanent=False) from error
        if 200 <= status < 300:
            return Delivery(status, answer)
        raise NotifierError(
            f"HTTP {status}: {answer}" if answer else f"HTTP {status}",
            permanent=http_is_permanent(status) or 300 <= status < 400,
            status=status,
            retry_after=retry_after,
        )
