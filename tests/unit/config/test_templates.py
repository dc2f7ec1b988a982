"""Templates: rendering, native values, env secrets, and what they reference."""

from __future__ import annotations

import pytest

from wfmon.config.templates import MissingEnv, Renderer, TemplateRenderError, references


def renderer(secrets: list[str], environ: dict[str, str] | None = None) -> Renderer:
    context = {"vars": {"base": "http://h", "n": 3}, "steps": {"a": {"token": "t1"}}, "run": {}}
    return Renderer(context, environ=environ or {}, on_secret=secrets.append)


def test_text_and_native_values() -> None:
    r = renderer([])
    assert r.render("{{ vars.base }}/x") == "http://h/x"
    assert r.render("{{ vars.n }}") == 3  # one expression keeps its type
    assert r.render({"k": ["{{ vars.n + 1 }}", "plain"]}) == {"k": [4, "plain"]}
    assert r.render("no template") == "no template"
    assert r.render("{{ steps['a'].token }}") == "t1"


def test_env_values_are_secret_and_defaults_work() -> None:
    secrets: list[str] = []
    r = renderer(secrets, {"PW": "hunter22"})
    assert r.render("pw=${env:PW}") == "pw=hunter22"
    assert r.render("${env:NOPE:-fallback}") == "fallback"
    assert secrets == ["hunter22", "fallback"]
    with pytest.raises(MissingEnv):
        r.render("${env:NOPE}")


def test_env_value_is_not_itself_a_template() -> None:
    # A secret containing "{{" must come through as text, not be rendered.
    r = renderer([], {"PW": "{{ vars.base }}"})
    assert r.render("${env:PW}") == "{{ vars.base }}"


def test_undefined_names_fail_clearly() -> None:
    with pytest.raises(TemplateRenderError, match="nope"):
        renderer([]).render("{{ vars.nope }}")


def test_sandbox_blocks_attribute_escapes() -> None:
    with pytest.raises(Exception, match=r"unsafe|not safely|access"):
        renderer([]).render("{{ vars.__class__.__mro__ }}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ vars.base }}/x", ["vars.base"]),
        ("{{ steps.login.token }} {{ run.id }}", ["steps.login.token", "run.id"]),
        ("{{ steps['a-b'].x | upper }}", ["steps.a-b.x"]),
        ("${env:X}", ["__env__"]),
        ("{{ uuid() }}", ["uuid"]),
    ],
)
def test_references(text: str, expected: list[str]) -> None:
    assert sorted(str(r) for r in references(text)) == sorted(expected)
