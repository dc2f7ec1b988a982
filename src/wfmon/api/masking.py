"""Masking what the API shows of stored definitions and results.

Results are masked by value when recorded (the engine knows the secrets); definitions are
stored as written, so a literal password or bearer token in a YAML file would be shown as
is. Here values are masked by name: any key that names a secret (password, token, api_key,
authorization, cookie...) and any URL's credentials and token-like parameters. A value
that is only a reference (`${env:API_TOKEN}`, `{{ steps.login.token }}`) is kept: it shows
where the secret comes from without being one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wfmon.redact import MASK, SENSITIVE_HEADERS, SENSITIVE_PARAMS, Redactor

_REFERENCE = re.compile(r"^\s*(\$\{env:[A-Za-z_][A-Za-z0-9_]*\}|\{\{[^{}]*\}\})\s*$")
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential"
    r"|authorization|cookie|session|signature)",
    re.I,
)
_URL_KEYS = frozenset({"url", "health_url", "href", "endpoint"})
_URLS = Redactor()  # no values: masks userinfo and token-like query parameters by name


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) or key.lower() in SENSITIVE_HEADERS


def mask_definition(value: Any, key: str = "") -> Any:
    """A copy of a stored definition with secrets masked by name."""
    if isinstance(value, Mapping):
        secret_flagged = value.get("secret") is True
        masked = {}
        for k, v in value.items():
            name = str(k)
            if secret_flagged and name in ("value", "default"):
                masked[name] = MASK
            else:
                masked[name] = mask_definition(v, name)
        return masked
    if isinstance(value, list | tuple):
        return [mask_definition(v, key) for v in value]
    if isinstance(value, str):
        if is_secret_key(key) and not _REFERENCE.match(value):
            return MASK
        if key.lower() in _URL_KEYS or value.startswith(("http://", "https://")):
            return _URLS.url(value)
    return value


def mask_named(values: Mapping[str, Any]) -> dict[str, Any]:
    """Mask the values whose names look secret (extracted values, request fields)."""
    return {
        k: (MASK if is_secret_key(k) and v not in (None, "", MASK) else mask_definition(v, k))
        for k, v in values.items()
    }


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (MASK if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


def mask_query(url: str) -> str:
    """Credentials and token-like query parameters of a URL."""
    return _URLS.url(url) if SENSITIVE_PARAMS.search(url) or "@" in url else url
