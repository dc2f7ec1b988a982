"""Assertion operators: a matcher is a plain value (equality) or a map of operators.

Evaluated with plain Python comparisons: config text is never `eval`-ed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

# Canonical operator names, and the spellings accepted in config for each.
ALIASES: dict[str, str] = {
    "==": "==",
    "eq": "==",
    "equals": "==",
    "!=": "!=",
    "ne": "!=",
    "<": "<",
    "lt": "<",
    "<=": "<=",
    "le": "<=",
    "lte": "<=",
    ">": ">",
    "gt": ">",
    ">=": ">=",
    "ge": ">=",
    "gte": ">=",
    "exists": "exists",
    "contains": "contains",
    "not_contains": "not_contains",
    "matches": "matches",
    "in": "in",
    "length": "length",
    "type": "type",
}

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def normalise_matcher(value: Any) -> Any:
    """Validate an operator map at load time and return it with canonical operator names.

    A mapping whose keys are all operators is an operator map; any other value (including a
    mapping with other keys) is compared for equality.
    """
    if isinstance(value, Mapping) and value and all(isinstance(k, str) for k in value):
        known = [k for k in value if k in ALIASES]
        if known and len(known) == len(value):
            out: dict[str, Any] = {}
            for key, operand in value.items():
                op = ALIASES[key]
                _check_operand(op, operand)
                # `length` takes a value or operators of its own: {length: {">=": 1}}.
                out[op] = normalise_matcher(operand) if op == "length" else operand
            return {"__ops__": out}
        if known:
            unknown = sorted(k for k in value if k not in ALIASES)
            raise ValueError(
                f"unknown operator(s) {', '.join(unknown)}; operators are "
                "==, !=, <, <=, >, >=, exists, contains, not_contains, matches, in, length, type"
            )
    return value


def _check_operand(op: str, operand: Any) -> None:
    if op == "exists" and not isinstance(operand, bool):
        raise ValueError("exists takes true or false")
    if op == "matches":
        if not isinstance(operand, str):
            raise ValueError("matches takes a regular expression")
        try:
            _regex(operand)
        except re.error as exc:
            raise ValueError(f"invalid regex {operand!r}: {exc}") from exc
    if op == "in" and not isinstance(operand, list):
        raise ValueError("in takes a list of values")
    if op == "type" and operand not in _TYPES:
        raise ValueError(f"type takes one of {', '.join(_TYPES)}")
    if op in ("<", "<=", ">", ">=") and not isinstance(operand, int | float | str):
        raise ValueError(f"{op} takes a number or a string")


@lru_cache(maxsize=2048)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _ordered(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any, bool], bool]:
    def check(actual: Any, operand: Any, found: bool) -> bool:
        if not found or actual is None or isinstance(actual, bool):
            return False
        try:
            return fn(actual, operand)
        except TypeError:
            # "12" vs 10: compare numbers as numbers when the text is one.
            try:
                return fn(float(actual), float(operand))
            except (TypeError, ValueError):
                return False

    return check


def _contains(actual: Any, operand: Any, found: bool) -> bool:
    if not found or actual is None:
        return False
    if isinstance(actual, str):
        return str(operand) in actual
    if isinstance(actual, list | tuple):
        return operand in actual
    if isinstance(actual, Mapping):
        return operand in actual
    return False


def _length(actual: Any, operand: Any, found: bool) -> bool:
    if not found or not isinstance(actual, str | list | tuple | Mapping):
        return False
    return evaluate(operand, len(actual), True)[0]


_OPS: dict[str, Callable[[Any, Any, bool], bool]] = {
    "==": lambda a, o, f: f and a == o,
    "!=": lambda a, o, f: not f or a != o,
    "<": _ordered(lambda a, o: a < o),
    "<=": _ordered(lambda a, o: a <= o),
    ">": _ordered(lambda a, o: a > o),
    ">=": _ordered(lambda a, o: a >= o),
    "exists": lambda a, o, f: f == bool(o),
    "contains": _contains,
    "not_contains": lambda a, o, f: not _contains(a, o, f),
    "matches": lambda a, o, f: (
        f and _regex(o).search(a if isinstance(a, str) else str(a)) is not None
    ),
    "in": lambda a, o, f: f and a in o,
    "length": _length,
    "type": lambda a, o, f: (
        f and isinstance(a, _TYPES[o]) and not (o in ("number", "integer") and isinstance(a, bool))
    ),
}


def evaluate(matcher: Any, actual: Any, found: bool = True) -> tuple[bool, str, Any]:
    """Check `actual` against a normalised matcher -> (passed, operator text, expected).

    `found` is False when the value is absent (a JSON path with no match, a missing header).
    """
    if isinstance(matcher, Mapping) and "__ops__" in matcher:
        ops: Mapping[str, Any] = matcher["__ops__"]
        for op, operand in ops.items():
            if not _OPS[op](actual, operand, found):
                return False, op, operand
        first = next(iter(ops.items()))
        return True, first[0], first[1]
    return (found and actual == matcher), "==", matcher


def describe(matcher: Any) -> str:
    """Human text for a matcher, for messages and the dashboard."""
    if isinstance(matcher, Mapping) and "__ops__" in matcher:
        return " and ".join(f"{op} {operand!r}" for op, operand in matcher["__ops__"].items())
    return f"== {matcher!r}"
