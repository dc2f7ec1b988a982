"""Config loading: valid files load; every mistake gives one precise line."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from wfmon.config.loader import load
from wfmon.config.schema import json_schema

EXAMPLE = Path(__file__).parents[3] / "src/wfmon/config/example.yaml"

HEAD = """\
vars:
  base_url: http://127.0.0.1:8900
workflows:
  - name: wf
    schedule: "*/15 * * * *"
    steps:
"""

# (step YAML at 6 spaces, expected "line:col: path: message" fragment, hint fragment or None)
MISTAKES = [
    # a typo'd key: named, with a suggestion, and no second "missing url" line for it
    (
        "      - {name: a, type: http, urll: 'http://x'}\n",
        "7:31: workflows[0].steps[0].urll: unknown key 'urll'",
        "did you mean 'url'?",
    ),
    # an undefined template variable, with the defined ones as the hint
    (
        "      - {name: a, type: http, url: '{{ vars.base }}/x'}\n",
        "7:31: workflows[0].steps[0].url: undefined variable vars.base",
        "defined vars: base_url",
    ),
    # a reference to a step that runs later
    (
        "      - {name: a, type: http, url: '{{ steps.b.x }}'}\n"
        "      - {name: b, type: http, url: 'http://x', extract: {x: {json: $.x}}}\n",
        "workflows[0].steps[0].url: steps.b runs after this step",
        None,
    ),
    # a value the earlier step does not produce
    (
        "      - {name: a, type: http, url: 'http://x'}\n"
        "      - {name: b, type: http, url: 'http://x/{{ steps.a.token }}'}\n",
        "8:31: workflows[0].steps[1].url: step 'a' has no value 'token'",
        "extract:",
    ),
    # an unknown step type
    ("      - {name: a, type: htp, url: 'http://x'}\n", "unknown step type 'htp'", "'http'"),
    # a bad operator
    (
        "      - {name: a, type: http, url: 'http://x', expect: {json: {$.a: {eq: 1, nope: 2}}}}\n",
        "unknown operator(s) nope",
        None,
    ),
    # a bad JSON path
    (
        "      - {name: a, type: http, url: 'http://x', extract: {t: {json: '$..['}}}\n",
        "invalid JSON path",
        None,
    ),
    # a bad regex
    (
        "      - {name: a, type: http, url: 'http://x', expect: {body: {matches: '(('}}}\n",
        "invalid regex",
        None,
    ),
    # a bad status
    (
        "      - {name: a, type: http, url: 'http://x', expect: {status: 99}}\n",
        "99 is not an HTTP status code",
        None,
    ),
    # an invalid JSON Schema
    (
        "      - {name: a, type: http, url: 'http://x', expect: {json_schema: {type: 12}}}\n",
        "not a valid JSON Schema",
        None,
    ),
    # a URL that is not http(s)
    (
        "      - {name: a, type: http, url: 'ftp://x'}\n",
        "must start with http:// or https://",
        None,
    ),
    # a step name templates could not read
    (
        "      - {name: my-step, type: http, url: 'http://x'}\n",
        "steps[0].name",
        "letters, digits and _",
    ),
    # duplicate step names
    (
        "      - {name: a, type: http, url: 'http://x'}\n"
        "      - {name: a, type: http, url: 'http://x'}\n",
        "duplicate step name 'a'",
        None,
    ),
    # template syntax
    ("      - {name: a, type: http, url: 'http://x/{{ vars.base_url '}\n", "template syntax", None),
    # unknown template root
    (
        "      - {name: a, type: http, url: 'http://x/{{ foo }}'}\n",
        "unknown name 'foo' in template",
        "vars.NAME",
    ),
    # two bodies
    (
        "      - {name: a, type: http, url: 'http://x', json: {}, body: x}\n",
        "at most one request body",
        None,
    ),
    # a python step whose function cannot be imported
    (
        "      - {name: a, type: python, function: 'nope_module_x:run'}\n",
        "cannot import 'nope_module_x'",
        None,
    ),
    # a secret that is not set
    (
        "      - {name: a, type: http, url: 'http://x', headers: {X: '${env:NOPE_X}'}}\n",
        "environment variable NOPE_X is not set",
        "${env:NOPE_X:-value}",
    ),
]


@pytest.mark.parametrize(("steps", "expected", "hint"), MISTAKES)
def test_each_mistake_gives_one_precise_line(
    tmp_path: Path, steps: str, expected: str, hint: str | None
) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text(HEAD + steps)
    result = load(path, environ={})
    lines = [str(p) for p in result.problems]
    assert len(lines) == 1, lines
    assert expected in lines[0]
    assert lines[0].startswith(f"{path}:")
    if hint:
        assert result.problems[0].hint is not None
        assert hint in result.problems[0].hint
    assert result.workflows == []


def test_every_problem_in_one_pass_and_good_workflows_still_load(tmp_path: Path) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text(
        """\
vars: {base_url: "http://127.0.0.1:8900"}
workflows:
  - name: typo
    schedule: "*/5 * * * *"
    steps: [{name: a, type: http, urll: "http://x"}]
  - name: bad-cron
    schedule: "61 * * * *"
    steps: [{name: a, type: http, url: "http://x"}]
  - name: undefined-var
    schedule: {cron: "0 * * * *", timezone: Europe/Berlin}
    steps: [{name: a, type: http, url: "{{ vars.nope }}/x"}]
  - name: good
    schedule: {every: 30s}
    steps: [{name: a, type: http, url: "{{ vars.base_url }}/x"}]
"""
    )
    result = load(path, environ={})
    assert [str(p).split(": ", 1)[0] for p in result.problems] == [
        f"{path}:5:35",
        f"{path}:7:5",
        f"{path}:11:35",
    ]
    assert [w.name for w in result.workflows] == ["good"]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ('"61 * * * *"', "is invalid"),  # minute out of range
        ('"* * *"', "it needs 5"),  # too few fields
        ('"0 0 31 2 *"', "Bad day-of-month"),  # 31 February
        ("{cron: '0 2 * * *', timezone: Mars/Base}", "unknown time zone 'Mars/Base'"),
        ("{cron: '0 2 * * *', timezone: europe/berlin}", "did you mean 'Europe/Berlin'"),
        ("{every: 30s, cron: '* * * * *'}", "exactly one of cron or every"),
        ("{every: 500ms}", "the shortest interval is 1s"),
        ("{every: soon}", "is not a duration"),
    ],
)
def test_schedule_mistakes(tmp_path: Path, schedule: str, message: str) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text(
        f"workflows:\n  - name: w\n    schedule: {schedule}\n"
        "    steps: [{name: a, type: http, url: 'http://x'}]\n"
    )
    result = load(path, environ={})
    assert len(result.problems) == 1
    assert message in result.problems[0].message


def test_duplicate_names_across_files_and_yaml_keys(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "workflows:\n  - name: w\n    schedule: '* * * * *'\n"
        "    steps: [{name: a, type: tcp, host: h, port: 1}]\n"
    )
    (tmp_path / "b.yml").write_text(
        "workflows:\n  - name: w\n    name: w\n    schedule: '* * * * *'\n"
        "    steps: [{name: a, type: tcp, host: h, port: 1}]\n"
    )
    result = load(tmp_path, environ={})
    messages = [p.message for p in result.problems]
    assert "duplicate key" in messages
    assert any(m.startswith("duplicate workflow name 'w', first defined at") for m in messages)
    assert [w.name for w in result.workflows] == ["w"]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text("workflows:\n  - name: [unclosed\n")
    [problem] = load(path).problems
    assert problem.line == 3
    assert problem.message.startswith("YAML syntax:")


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    [problem] = load(tmp_path / "nope.yaml").problems
    assert problem.hint is not None
    assert "wfmon init" in problem.hint


def test_the_example_loads_and_matches_the_exported_schema() -> None:
    result = load(EXAMPLE, environ={})
    assert result.ok, result.problems
    assert [w.name for w in result.workflows] == ["user-login", "health-check"]
    login = result.workflows[0]
    assert login.retries.attempts == 1
    assert login.schedule.cron == "*/15 * * * *"
    assert len(login.version) == 16
    # Editors validate with the exported schema: the example must pass it too.
    jsonschema.validate(yaml.safe_load(EXAMPLE.read_text()), json_schema())


def test_version_changes_with_the_definition_only(tmp_path: Path) -> None:
    def version(url: str, desc: str = "") -> str:
        path = tmp_path / "wfmon.yaml"
        path.write_text(
            f"workflows:\n  - name: w\n    description: '{desc}'\n    schedule: '* * * * *'\n"
            f"    steps: [{{name: a, type: http, url: '{url}'}}]\n"
        )
        return load(path).workflows[0].version

    assert version("http://a") == version("http://a")
    assert version("http://a") != version("http://b")
    assert version("http://a") != version("http://a", "described")


def test_defaults_apply_and_workflows_override(tmp_path: Path) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text(
        """\
defaults: {timeout: 20s, retries: 2, locations: [eu, us]}
workflows:
  - name: a
    schedule: {every: 1m}
    steps: [{name: s, type: tcp, host: h, port: 1}]
  - name: b
    schedule: {every: 1m}
    timeout: 1m
    retries: {attempts: 0}
    locations: [eu]
    steps: [{name: s, type: tcp, host: h, port: 1}]
"""
    )
    a, b = load(path).workflows
    assert (a.timeout_s, a.retries.attempts, a.locations) == (20.0, 2, ("eu", "us"))
    assert (b.timeout_s, b.retries.attempts, b.locations) == (60.0, 0, ("eu",))
