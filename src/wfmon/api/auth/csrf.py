"""CSRF protection for cookie sessions.

Each session carries a random token (given to the page by `GET /api/v1/auth/session` and
the login answer); an unsafe request (POST, PUT, PATCH, DELETE) authenticated by the
session cookie must send it back in the `X-CSRF-Token` header or a `csrf_token` form
field. Bearer-token requests are exempt: a browser never adds that header by itself.
The login form, which has no session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets

HEADER = "X-CSRF-Token"
FORM_FIELD = "csrf_token"
LOGIN_COOKIE = "wfmon_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def matches(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison; a missing or empty value never matches."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
