"""Checks that need the whole workflow: step names, template references, URLs, secrets."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2.exceptions import TemplateSyntaxError
from yarl import URL

from wfmon.config.templates import (
    FUNCTIONS,
    RUN_FIELDS,
    compile_template,
    env_names,
    is_template,
    iter_strings,
    references,
)
from wfmon.config.yamlpos import Parsed
from wfmon.errors import ConfigProblem

# Fields that hold assertions, extraction rules or labels: not rendered as templates.
NOT_TEMPLATED = frozenset({"name", "type", "description", "expect", "extract", "function"})

Location = tuple[str | int, ...]


def check_workflow(
    file: Path, parsed: Parsed, prefix: Location, item: Any, variables: Mapping[str, Any]
) -> list[ConfigProblem]:
    """Checks on the workflow as written (a dict), so they run even when the schema
    validation of the same workflow failed: every mistake is reported in one pass."""
    problems: list[ConfigProblem] = []

    def problem(path: Location, message: str, hint: str | None = None) -> None:
        line, col = parsed.locate(path)
        problems.append(ConfigProblem(str(file), line, col, _dotted(path), message, hint))

    raw_steps = item.get("steps") if isinstance(item, dict) else None
    if not isinstance(raw_steps, list):
        return problems
    steps = [s if isinstance(s, dict) else {} for s in raw_steps]
    names = [str(s.get("name")) for s in steps]
    earlier: dict[str, frozenset[str] | None] = {}
    for index, step in enumerate(steps):
        here = (*prefix, "steps", index)
        name = str(step.get("name"))
        if name in earlier:
            problem(
                (*here, "name"),
                f"duplicate step name {name!r}",
                "step names must be unique within a workflow",
            )
        fields = {k: v for k, v in step.items() if k not in NOT_TEMPLATED}
        for path, text in iter_strings(fields):
            if not is_template(text):
                continue
            where = (*here, *path)
            try:
                compile_template(text)
                refs = references(text)
            except TemplateSyntaxError as exc:
                problem(where, f"template syntax: {exc.message}")
                continue
            for ref in refs:
                message, hint = _check_reference(ref.parts, variables, earlier, names, name)
                if message:
                    problem(where, message, hint)
        url = step.get("url")
        if isinstance(url, str):
            checked = _render_vars_only(url, variables)
            if checked is not None:
                why = _bad_url(checked)
                if why:
                    problem((*here, "url"), why)
        earlier[name] = _outputs(step)
    return problems


def _outputs(step: Mapping[str, Any]) -> frozenset[str] | None:
    """What a step makes readable as steps.NAME.X; None when anything may be (python)."""
    from wfmon.runner.steps import STEP_TYPES

    model = STEP_TYPES.get(str(step.get("type")))
    if model is None or model.builtin_outputs is None:
        return None
    extract = step.get("extract")
    names = frozenset(str(k) for k in extract) if isinstance(extract, dict) else frozenset()
    return model.builtin_outputs | names


def _check_reference(
    parts: tuple[str, ...],
    variables: Mapping[str, Any],
    earlier: Mapping[str, frozenset[str] | None],
    names: list[str],
    current: str,
) -> tuple[str | None, str | None]:
    root = parts[0]
    if root == "vars":
        if len(parts) < 2:
            return None, None
        if parts[1] not in variables:
            known = ", ".join(sorted(variables)) or "none defined"
            return f"undefined variable vars.{parts[1]}", f"defined vars: {known}"
        return None, None
    if root == "steps":
        if len(parts) < 2:
            return None, None
        step_name = parts[1]
        if step_name == current:
            return f"steps.{step_name} is this step itself", "a step can only read earlier steps"
        if step_name not in earlier:
            if step_name in names:
                return f"steps.{step_name} runs after this step", "steps run in order"
            known = ", ".join(earlier) or "none"
            return f"no earlier step named {step_name!r}", f"earlier steps: {known}"
        if len(parts) >= 3:
            outputs = earlier[step_name]
            if outputs is not None and parts[2] not in outputs:
                return (
                    f"step {step_name!r} has no value {parts[2]!r}",
                    "add it under that step's extract:, or use one of "
                    + ", ".join(sorted(outputs)),
                )
        return None, None
    if root == "run":
        if len(parts) >= 2 and parts[1] not in RUN_FIELDS:
            return f"unknown run field {parts[1]!r}", f"one of {', '.join(sorted(RUN_FIELDS))}"
        return None, None
    if root in FUNCTIONS:
        return None, None
    return (
        f"unknown name {root!r} in template",
        "templates read vars.NAME, steps.STEP.NAME, run.id, uuid(), random_string(n), "
        "random_int(a, b) and ${env:NAME}",
    )


def _render_vars_only(url: str, variables: Mapping[str, Any]) -> str | None:
    """The URL with vars filled in, when it uses nothing else (else None: checked at run)."""
    if not is_template(url):
        return url
    try:
        refs = references(url)
    except TemplateSyntaxError:
        return None
    if any(r.parts[0] != "vars" for r in refs) or "${env:" in url:
        return None
    try:
        rendered = compile_template(url).render({"vars": dict(variables)})
    except Exception:  # reported by the reference check already
        return None
    return str(rendered)


def _bad_url(url: str) -> str | None:
    try:
        parsed = URL(url)
    except ValueError as exc:
        return f"invalid URL {url!r}: {exc}"
    if parsed.scheme not in ("http", "https"):
        return f"URL {url!r} must start with http:// or https://"
    if not parsed.host:
        return f"URL {url!r} has no host"
    return None


def missing_env(
    file: Path, parsed: Parsed, index: int, item: Any, environ: Mapping[str, str]
) -> list[ConfigProblem]:
    """${env:NAME} without a default must be set: a run would fail on every attempt."""
    out = []
    for path, text in iter_strings(item, ("workflows", index)):
        for name, has_default in env_names(text):
            if not has_default and name not in environ:
                line, col = parsed.locate(path)
                out.append(
                    ConfigProblem(
                        str(file),
                        line,
                        col,
                        _dotted(path),
                        f"environment variable {name} is not set",
                        f"export {name}=..., or give a default: ${{env:{name}:-value}}",
                    )
                )
    return out


def _dotted(path: Location) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out
