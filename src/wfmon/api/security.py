"""Security headers on every response, and the last line of defence for errors.

A pure ASGI middleware (Starlette's BaseHTTPMiddleware costs a task per request): it adds
the headers to each response start, and turns an exception raised before a response
started into a 500 problem (with the same headers) instead of a bare error page.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wfmon.api.problems import internal_error

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_CSP = (b"content-security-policy", CSP.encode())
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(_HEADERS)
                # A route may set a policy of its own; every page here keeps the default.
                if b"content-security-policy" not in present:
                    headers.append(_CSP)
                if b"cache-control" not in present:
                    headers.append(_NO_STORE)
                if https:
                    headers.append(_HSTS)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unexpected error", extra={"event": "api.error", "path": scope["path"]})
            if started:
                raise
            response = internal_error()
            await response(scope, receive, send_with_headers)
