"""Every assertion operator, through the same table."""

from __future__ import annotations

from typing import Any

import pytest

from wfmon.runner.matchers import describe, evaluate, normalise_matcher

CASES: list[tuple[Any, Any, bool, bool]] = [
    # (matcher as written, actual, found, passes)
    (5, 5, True, True),  # a plain value means equality
    (5, 6, True, False),
    (5, None, False, False),  # absent never equals
    ({"==": "a"}, "a", True, True),
    ({"eq": "a"}, "b", True, False),  # aliases
    ({"!=": "a"}, "b", True, True),
    ({"!=": "a"}, None, False, True),  # absent is "not equal"
    ({"<": 10}, 9, True, True),
    ({"<": 10}, 10, True, False),
    ({"<=": 10}, 10, True, True),
    ({">": 1.5}, 2, True, True),
    ({">=": 2}, "3", True, True),  # numeric text compares as a number
    ({">": 1}, True, True, False),  # booleans are not numbers
    ({">": 1}, None, False, False),
    ({"exists": True}, None, True, True),  # present, even if null
    ({"exists": True}, None, False, False),
    ({"exists": False}, None, False, True),
    ({"contains": "ell"}, "hello", True, True),
    ({"contains": 2}, [1, 2], True, True),
    ({"contains": "k"}, {"k": 1}, True, True),  # a mapping contains its keys
    ({"contains": 3}, [1, 2], True, False),
    ({"not_contains": "x"}, "hello", True, True),
    ({"matches": "^h.l+o$"}, "hello", True, True),
    ({"matches": "^\\d+$"}, 123, True, True),  # non-text is matched as text
    ({"matches": "z"}, "hello", True, False),
    ({"in": ["a", "b"]}, "b", True, True),
    ({"in": ["a", "b"]}, "c", True, False),
    ({"length": 2}, [1, 2], True, True),
    ({"length": {">": 2}}, "ab", True, False),
    ({"length": {">=": 1}}, [1], True, True),  # operators nested in length
    ({"type": "integer"}, 3, True, True),
    ({"type": "integer"}, True, True, False),
    ({"type": "object"}, {}, True, True),
    ({">=": 1, "<": 3}, 2, True, True),  # every operator must hold
    ({">=": 1, "<": 3}, 3, True, False),
    ({"a": 1}, {"a": 1}, True, True),  # a mapping of non-operators is a value
]


@pytest.mark.parametrize(("written", "actual", "found", "passes"), CASES)
def test_operators(written: Any, actual: Any, found: bool, passes: bool) -> None:
    matcher = normalise_matcher(written)
    assert evaluate(matcher, actual, found)[0] is passes


def test_the_failing_operator_is_reported() -> None:
    matcher = normalise_matcher({">=": 1, "<": 3})
    assert evaluate(matcher, 5) == (False, "<", 3)
    assert describe(matcher) == ">= 1 and < 3"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ({"exists": "yes"}, "exists takes true or false"),
        ({"matches": "(("}, "invalid regex"),
        ({"in": "abc"}, "in takes a list"),
        ({"type": "thing"}, "type takes one of"),
        ({"<": [1]}, "< takes a number or a string"),
        ({"==": 1, "bogus": 2}, "unknown operator(s) bogus"),
    ],
)
def test_bad_operators_are_refused_at_load(written: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        normalise_matcher(written)


JSON_DOC = {"a": {"b": [10, {"c": None}]}, "items": [{"id": 1}, {"id": 2}], "n": 0}


@pytest.mark.parametrize(
    "path",
    [
        "$",
        "$.a",
        "$.a.b",
        "$.a.b[0]",
        "$.a.b[1].c",  # present, null
        "$.a.b[5]",  # out of range
        "$.missing",
        "$.n",
        "$.a.b.c",  # a member of a list: absent
        "$.items[*].id",  # not simple: the full engine
        "$..id",
    ],
)
def test_the_fast_path_agrees_with_the_jsonpath_engine(path: str) -> None:
    from wfmon.runner.jsonpaths import _is_multi, compile_path, query

    matches = compile_path(path).findall(JSON_DOC)
    expected = (
        (False, None)
        if not matches
        else (True, matches[0] if len(matches) == 1 and not _is_multi(path) else list(matches))
    )
    assert query(path, JSON_DOC) == expected
