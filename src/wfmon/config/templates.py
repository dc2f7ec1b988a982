"""Templates in step fields: `{{ vars.base_url }}`, `{{ steps.login.token }}`, `${env:NAME}`.

Jinja2's sandbox renders them. A string that is one expression (`"{{ steps.a.count }}"`)
keeps its native type, so JSON bodies can carry numbers and booleans. `${env:NAME}` (or
`${env:NAME:-default}`) reads the environment at run time and marks the value secret, so it is
masked wherever results are stored or printed. Templates compile once and are cached.
"""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.exceptions import TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SINGLE_EXPR = re.compile(r"^\{\{(.*)\}\}$", re.DOTALL)

# Names a template may use at its root, besides vars and steps.
RUN_FIELDS = frozenset({"id", "workflow", "location", "slot", "attempt", "started_at"})
FUNCTIONS = frozenset({"uuid", "random_int", "random_string", "__env__"})
ROOTS = frozenset({"vars", "steps", "run"}) | FUNCTIONS


def _random_string(length: int = 12) -> str:
    return secrets.token_hex((length + 1) // 2)[:length]


def _random_int(low: int = 0, high: int = 1_000_000) -> int:
    return low + secrets.randbelow(high - low + 1)


_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_ENV.globals.update(
    uuid=lambda: uuid.uuid4().hex,
    random_int=_random_int,
    random_string=_random_string,
)


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "${env:" in text


def _to_jinja(text: str) -> str:
    """Replace ${env:NAME:-default} with a call the renderer can intercept."""

    def sub(m: re.Match[str]) -> str:
        args = repr(m.group(1)) if m.group(2) is None else f"{m.group(1)!r}, {m.group(2)!r}"
        return "{{ __env__(" + args + ") }}"

    return ENV_REF.sub(sub, text)


@dataclass(frozen=True)
class Compiled:
    render: Callable[[Mapping[str, Any]], Any]


@lru_cache(maxsize=8192)
def compile_template(text: str) -> Compiled:
    """Compile once; raises TemplateError for bad syntax."""
    source = _to_jinja(text)
    single = _SINGLE_EXPR.match(source)
    if single and "{{" not in single.group(1) and "}}" not in single.group(1):
        expr = _ENV.compile_expression(single.group(1), undefined_to_none=False)

        def evaluate(ctx: Mapping[str, Any]) -> Any:
            value = expr(**ctx)
            if isinstance(value, Undefined):
                # A bare expression returns its Undefined instead of raising: make it raise.
                raise UndefinedError(value._undefined_message)
            return value

        return Compiled(render=evaluate)
    template = _ENV.from_string(source)
    return Compiled(render=lambda ctx: template.render(**ctx))


class MissingEnv(Exception):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"environment variable {name} is not set")


class Renderer:
    """Renders templates for one execution and remembers which values are secret."""

    def __init__(
        self,
        context: dict[str, Any],
        environ: Mapping[str, str] | None = None,
        on_secret: Callable[[str], None] | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._on_secret = on_secret
        self.context = context
        self.context["__env__"] = self._env

    def _env(self, name: str, default: str | None = None) -> str:
        value = self._environ.get(name, default)
        if value is None:
            raise MissingEnv(name)
        if self._on_secret is not None and value:
            self._on_secret(value)
        return value

    def render(self, value: Any) -> Any:
        """Render a string, or every string inside lists and mappings."""
        if isinstance(value, str):
            if not is_template(value):
                return value
            try:
                return compile_template(value).render(self.context)
            except UndefinedError as exc:
                raise TemplateRenderError(value, str(exc)) from exc
            except MissingEnv:
                raise
            except TemplateError as exc:
                raise TemplateRenderError(value, str(exc)) from exc
        if isinstance(value, Mapping):
            return {self.render(k): self.render(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.render(v) for v in value]
        return value

    def render_str(self, value: Any) -> str:
        out = self.render(value)
        return out if isinstance(out, str) else str(out)


class TemplateRenderError(Exception):
    def __init__(self, template: str, message: str) -> None:
        self.template = template
        super().__init__(f"template {template!r}: {message}")


# --- load-time analysis -------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A dotted name a template reads, e.g. ('steps', 'login', 'token')."""

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.parts)


def env_names(text: str) -> list[tuple[str, bool]]:
    """(name, has_default) for each ${env:...} in the text."""
    return [(m.group(1), m.group(2) is not None) for m in ENV_REF.finditer(text)]


def references(text: str) -> list[Reference]:
    """Every root-anchored name chain the template reads. Raises TemplateError on bad syntax."""
    source = _to_jinja(text)
    tree = _ENV.parse(source)
    out: list[Reference] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        chain = _chain(node)
        if chain is not None:
            out.append(Reference(chain))
    # Keep only maximal chains: `steps.login.token` also yields `steps.login` and `steps`.
    longest: list[Reference] = []
    for ref in sorted(out, key=lambda r: -len(r.parts)):
        if not any(other.parts[: len(ref.parts)] == ref.parts for other in longest):
            longest.append(ref)
    return longest


def _chain(node: nodes.Node) -> tuple[str, ...] | None:
    parts: list[str] = []
    cur: nodes.Node = node
    while True:
        if isinstance(cur, nodes.Getattr):
            parts.append(cur.attr)
            cur = cur.node
        elif isinstance(cur, nodes.Getitem) and isinstance(cur.arg, nodes.Const):
            parts.append(str(cur.arg.value))
            cur = cur.node
        elif isinstance(cur, nodes.Name):
            if cur.ctx != "load":
                return None
            parts.append(cur.name)
            return tuple(reversed(parts))
        else:
            return None


def iter_strings(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string inside a nested structure, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str) and is_template(k):
                yield (*path, k), k
            yield from iter_strings(v, (*path, k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from iter_strings(v, (*path, i))
