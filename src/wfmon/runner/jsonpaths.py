"""JSON path queries, compiled once per expression (python-jsonpath, RFC 9535 style)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonpath

_MISSING = object()


@lru_cache(maxsize=4096)
def compile_path(expr: str) -> jsonpath.JSONPath | jsonpath.CompoundJSONPath:
    """Compile a JSON path; raises ValueError with the parser's message when invalid."""
    try:
        return jsonpath.compile(expr)
    except jsonpath.JSONPathError as exc:
        first_line = str(exc).splitlines()[0]
        raise ValueError(f"invalid JSON path {expr!r}: {first_line}") from exc


def query(expr: str, document: Any) -> tuple[bool, Any]:
    """(found, value). One match gives the value itself; several give the list of them."""
    matches = compile_path(expr).findall(document)
    if not matches:
        return False, None
    if len(matches) == 1 and not _is_multi(expr):
        return True, matches[0]
    return True, list(matches)


@lru_cache(maxsize=4096)
def _is_multi(expr: str) -> bool:
    # A wildcard, slice, filter or descendant segment can select many nodes: keep the list
    # even when one matched, so `contains` and `length` behave the same for 1 and for n.
    return any(token in expr for token in ("*", "..", "?", ":"))
