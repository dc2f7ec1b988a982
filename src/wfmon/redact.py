"""Masking of secrets wherever results could be stored or printed.

Two layers: by name (Authorization, Cookie, token-like query parameters) and by value (every
`${env:...}` value and every extraction marked `secret: true` seen during the execution, so a
password echoed in a response body or an error message is masked too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-admin-token",
        "x-csrf-token",
    }
)
SENSITIVE_PARAMS = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|access[_-]?key|signature|sig|auth)", re.I
)
# Shorter values would mask ordinary text ("a", "1"): they are still masked by name.
MIN_SECRET_LENGTH = 4


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: Any) -> None:
        text = value if isinstance(value, str) else str(value)
        if len(text) >= MIN_SECRET_LENGTH and text not in self._secrets:
            self._secrets.add(text)
            self._pattern = None

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, value: str) -> str:
        if not self._secrets or not value:
            return value
        if self._pattern is None:
            # Longest first, so a secret that contains another is masked whole.
            alternatives = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in alternatives))
        return self._pattern.sub(MASK, value)

    def value(self, value: Any) -> Any:
        """Mask strings inside any JSON-like structure."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            k: (MASK if k.lower() in SENSITIVE_HEADERS else self.text(v))
            for k, v in headers.items()
        }

    def url(self, url: str) -> str:
        """Mask userinfo and token-like query parameters, then known secret values."""
        if "@" in url or "?" in url:
            try:
                parts = urlsplit(url)
            except ValueError:
                return self.text(url)
            netloc = parts.netloc
            if "@" in netloc:
                netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
            query = parts.query
            if query:
                pairs = parse_qsl(query, keep_blank_values=True)
                query = urlencode(
                    [(k, MASK if SENSITIVE_PARAMS.search(k) else v) for k, v in pairs], safe="*"
                )
            url = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
        return self.text(url)
