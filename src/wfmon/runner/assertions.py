"""Checks shared by step types: status, duration, headers, body, JSON paths, JSON Schema,
and extraction of values into the context."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from wfmon.config.base import Extraction
from wfmon.domain.run import AssertionResult
from wfmon.runner import matchers
from wfmon.runner.jsonpaths import query

_NOT_JSON = object()


@dataclass
class ResponseView:
    """A response as assertions and extractions see it; JSON parsed lazily, at most once."""

    status: int | None
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False
    document: Any = _NOT_JSON  # set directly for non-HTTP steps (python results)
    _parsed: Any = None
    _parse_error: str | None = None
    _done: bool = False

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> tuple[bool, Any, str | None]:
        """(ok, document, error)."""
        if self.document is not _NOT_JSON:
            return True, self.document, None
        if not self._done:
            self._done = True
            try:
                self._parsed = orjson.loads(self.body)
            except orjson.JSONDecodeError as exc:
                why = "body truncated at the read cap" if self.truncated else str(exc)
                self._parse_error = f"response is not JSON ({why})"
        if self._parse_error is not None:
            return False, None, self._parse_error
        return True, self._parsed, None


def check_duration(limit_s: float | None, duration_ms: float) -> list[AssertionResult]:
    if limit_s is None:
        return []
    limit_ms = limit_s * 1000.0
    return [
        AssertionResult(
            check="duration",
            operator="<=",
            expected=f"{limit_ms:g} ms",
            actual=f"{duration_ms:.0f} ms",
            passed=duration_ms <= limit_ms,
        )
    ]


def check_headers(expected: Mapping[str, Any], view: ResponseView) -> list[AssertionResult]:
    out = []
    lower = {k.lower(): v for k, v in view.headers.items()}
    for name, matcher in expected.items():
        found = name.lower() in lower
        actual = lower.get(name.lower())
        passed, op, operand = matchers.evaluate(matcher, actual, found)
        out.append(AssertionResult(f"header {name}", op, operand, actual, passed))
    return out


def check_json(expected: Mapping[str, Any], view: ResponseView) -> list[AssertionResult]:
    if not expected:
        return []
    ok, document, error = view.json()
    out = []
    for path, matcher in expected.items():
        if not ok:
            out.append(
                AssertionResult(
                    f"json {path}", "parse", matchers.describe(matcher), None, False, error or ""
                )
            )
            continue
        found, actual = query(path, document)
        passed, op, operand = matchers.evaluate(matcher, actual, found)
        out.append(
            AssertionResult(f"json {path}", op, operand, actual if found else "<missing>", passed)
        )
    return out


@lru_cache(maxsize=256)
def _validator(schema_json: bytes) -> Draft202012Validator:
    return Draft202012Validator(orjson.loads(schema_json))


def check_schema(schema: Mapping[str, Any] | None, view: ResponseView) -> list[AssertionResult]:
    if schema is None:
        return []
    ok, document, error = view.json()
    if not ok:
        return [AssertionResult("json_schema", "schema", "valid", None, False, error or "")]
    validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    problem = best_match(validator.iter_errors(document))
    if problem is None:
        return [AssertionResult("json_schema", "schema", "valid", "valid", True)]
    where = "/".join(str(p) for p in problem.absolute_path) or "<root>"
    return [
        AssertionResult(
            "json_schema",
            "schema",
            "valid",
            "invalid",
            False,
            f"json_schema: at {where}: {problem.message}",
        )
    ]


def check_body(expected: Any, view: ResponseView) -> list[AssertionResult]:
    """`body:` is an operator map (contains, not_contains, matches, ...) over the text."""
    if expected is None:
        return []
    text = view.text
    out = []
    ops = expected["__ops__"] if isinstance(expected, Mapping) and "__ops__" in expected else None
    if ops is None:
        passed, op, operand = matchers.evaluate(expected, text, True)
        out.append(AssertionResult("body", op, operand, _excerpt(text), passed))
        return out
    for op, operand in ops.items():
        values = operand if isinstance(operand, list) and op != "in" else [operand]
        for one in values:
            passed, _, _ = matchers.evaluate({"__ops__": {op: one}}, text, True)
            out.append(AssertionResult("body", op, one, _excerpt(text), passed))
    return out


def _excerpt(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def extract(
    extractions: Mapping[str, Extraction], view: ResponseView
) -> tuple[dict[str, Any], set[str], list[AssertionResult]]:
    """(values, names of secret values, failures). A value that is not there and has no
    default fails the step: a later template would fail anyway, with a worse message."""
    values: dict[str, Any] = {}
    secret: set[str] = set()
    failures: list[AssertionResult] = []
    for name, how in extractions.items():
        found, value, source = _extract_one(how, view)
        if not found and how.default is not None:
            found, value = True, how.default
        if not found:
            failures.append(
                AssertionResult(
                    f"extract {name}",
                    "exists",
                    source,
                    None,
                    False,
                    f"extract {name}: {source} not found in the response",
                )
            )
            continue
        values[name] = value
        if how.secret:
            secret.add(name)
    return values, secret, failures


def _extract_one(how: Extraction, view: ResponseView) -> tuple[bool, Any, str]:
    if how.json_path is not None:
        ok, document, _ = view.json()
        if not ok:
            return False, None, f"json {how.json_path}"
        found, value = query(how.json_path, document)
        return found, value, f"json {how.json_path}"
    if how.header is not None:
        lower = {k.lower(): v for k, v in view.headers.items()}
        value = lower.get(how.header.lower())
        return value is not None, value, f"header {how.header}"
    assert how.regex is not None
    match = re.search(how.regex, view.text)
    if match is None:
        return False, None, f"regex {how.regex}"
    try:
        return True, match.group(how.group), f"regex {how.regex}"
    except IndexError:
        return False, None, f"regex {how.regex} group {how.group}"
