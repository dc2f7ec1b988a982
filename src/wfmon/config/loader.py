"""Load workflows from a YAML file or a directory of them; report every problem in one pass.

Each problem names file, line, column and the field path, with a hint where one helps. A bad
workflow is reported and left out; the others still load (the caller decides whether a
problem is fatal: `wfmon validate` exits 2, the daemon keeps the last good config).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from wfmon.alerts import config as alert_config
from wfmon.alerts.config import AlertsSpec, ChannelSpec, SilenceSpec
from wfmon.config import semantic
from wfmon.config.schema import DaemonSpec, RootSpec, workflow_model
from wfmon.config.yamlpos import Parsed, YamlSyntaxError, parse
from wfmon.domain.workflow import RetryPolicy, Schedule, Workflow
from wfmon.errors import ConfigError, ConfigProblem

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadResult:
    workflows: list[Workflow] = field(default_factory=list)
    problems: list[ConfigProblem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    daemon: DaemonSpec = field(default_factory=DaemonSpec)
    alerts: AlertsSpec = field(default_factory=AlertsSpec)
    channels: list[ChannelSpec] = field(default_factory=list)  # from every file
    silences: list[SilenceSpec] = field(default_factory=list)  # from every file

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)


def config_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
    return [path]


def load(
    path: str | Path, *, environ: Mapping[str, str] | None = None, check_env: bool = True
) -> LoadResult:
    """Load and validate. Never raises for bad config: problems are in the result."""
    root = Path(path)
    result = LoadResult()
    env = os.environ if environ is None else environ
    if not root.exists():
        result.problems.append(
            ConfigProblem(
                str(root),
                None,
                None,
                "",
                "no such file or directory",
                "create one with `wfmon init`, or point -c / WFMON_CONFIG at your config",
            )
        )
        return result
    files = config_files(root)
    if not files:
        result.problems.append(
            ConfigProblem(str(root), None, None, "", "no .yaml or .yml files in this directory")
        )
        return result
    # Python steps name `module:function`; modules beside the config are importable.
    config_dir = str((root if root.is_dir() else root.parent).resolve())
    if config_dir not in sys.path:
        sys.path.insert(0, config_dir)

    documents: list[tuple[Path, Parsed, RootSpec]] = []
    for file in files:
        result.files.append(file)
        loaded = _load_file(file, result.problems)
        if loaded is not None:
            documents.append((file, *loaded))

    merged_vars: dict[str, Any] = {}
    var_origin: dict[str, str] = {}
    for file, parsed, spec in documents:
        for name, value in spec.vars.items():
            if name in merged_vars and merged_vars[name] != value:
                line, col = parsed.locate(("vars", name))
                result.problems.append(
                    ConfigProblem(
                        str(file),
                        line,
                        col,
                        f"vars.{name}",
                        f"defined differently in {var_origin[name]}",
                    )
                )
            merged_vars[name] = value
            var_origin[name] = str(file)
    result.vars = merged_vars
    daemons = [spec.daemon for _, parsed, spec in documents if "daemon" in parsed.data]
    if daemons:
        result.daemon = daemons[0]
    if len(daemons) > 1:
        file = next(f for f, parsed, _ in documents[1:] if "daemon" in parsed.data)
        result.problems.append(
            ConfigProblem(str(file), None, None, "daemon", "`daemon:` is set in more than one file")
        )
    _merge_alerting(documents, result, env if check_env else None)

    seen: dict[str, str] = {}
    for file, parsed, spec in documents:
        for index, item in enumerate(spec.workflows):
            workflow = _load_workflow(
                file,
                parsed,
                spec,
                index,
                item,
                merged_vars,
                result.problems,
                env if check_env else None,
            )
            if workflow is None:
                continue
            line, col = parsed.locate(("workflows", index, "name"))
            here = f"{file}:{line}"
            if workflow.name in seen:
                result.problems.append(
                    ConfigProblem(
                        str(file),
                        line,
                        col,
                        f"workflows[{index}].name",
                        f"duplicate workflow name {workflow.name!r}, "
                        f"first defined at {seen[workflow.name]}",
                        "workflow names must be unique across all config files",
                    )
                )
                continue
            seen[workflow.name] = here
            result.workflows.append(workflow)
    result.problems.sort(key=lambda p: (p.file, p.line or 0, p.column or 0))
    return result


def _merge_alerting(
    documents: list[tuple[Path, Parsed, RootSpec]],
    result: LoadResult,
    environ: Mapping[str, str] | None,
) -> None:
    """`alerts:` from the one file that sets it; channels and silences from all of them."""
    with_alerts = [(f, spec) for f, parsed, spec in documents if "alerts" in parsed.data]
    if with_alerts:
        result.alerts = with_alerts[0][1].alerts
    for file, _ in with_alerts[1:]:
        result.problems.append(
            ConfigProblem(str(file), None, None, "alerts", "`alerts:` is set in more than one file")
        )
    names: set[str] = set()  # channel names of the files before this one
    for file, parsed, spec in documents:
        result.problems.extend(alert_config.check(file, parsed, parsed.data, environ))
        for index, channel in enumerate(spec.channels):
            if channel.name in names:
                line, col = parsed.locate(("channels", index, "name"))
                result.problems.append(
                    ConfigProblem(
                        str(file),
                        line,
                        col,
                        f"channels[{index}].name",
                        f"channel {channel.name!r} is also defined in another file",
                    )
                )
        names.update(channel.name for channel in spec.channels)
        result.channels.extend(spec.channels)
        result.silences.extend(spec.silences)


def load_strict(path: str | Path, **kwargs: Any) -> list[Workflow]:
    result = load(path, **kwargs)
    result.raise_for_problems()
    return result.workflows


def _load_file(file: Path, problems: list[ConfigProblem]) -> tuple[Parsed, RootSpec] | None:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ConfigProblem(str(file), None, None, "", f"cannot read: {exc}"))
        return None
    try:
        parsed = parse(text)
    except YamlSyntaxError as exc:
        problems.append(ConfigProblem(str(file), exc.line, exc.column, "", f"YAML syntax: {exc}"))
        return None
    for path, line, col in parsed.duplicates:
        problems.append(
            ConfigProblem(
                str(file),
                line,
                col,
                _dotted(path),
                "duplicate key",
                "YAML keeps only the last one; remove or rename the other",
            )
        )
    if parsed.data is None:
        parsed.data = {}
    if not isinstance(parsed.data, dict):
        problems.append(
            ConfigProblem(
                str(file), 1, 1, "", "the file must be a mapping with a `workflows:` list"
            )
        )
        return None
    try:
        spec = RootSpec.model_validate(parsed.data)
    except ValidationError as exc:
        problems.extend(_problems(file, parsed, (), parsed.data, exc))
        return None
    return parsed, spec


def _load_workflow(
    file: Path,
    parsed: Parsed,
    root: RootSpec,
    index: int,
    item: Any,
    merged_vars: Mapping[str, Any],
    problems: list[ConfigProblem],
    environ: Mapping[str, str] | None,
) -> Workflow | None:
    prefix: tuple[str | int, ...] = ("workflows", index)
    # A workflow whose secret is missing would fail on every run: reported and left out.
    found_env = (
        semantic.missing_env(file, parsed, index, item, environ) if environ is not None else []
    )
    own_vars = item.get("vars") if isinstance(item, dict) else None
    variables = {**merged_vars, **(own_vars if isinstance(own_vars, dict) else {})}
    found = semantic.check_workflow(file, parsed, prefix, item, variables) + found_env
    try:
        spec: Any = workflow_model().model_validate(item)
    except ValidationError as exc:
        problems.extend(_problems(file, parsed, prefix, item, exc))
        problems.extend(found)
        return None
    if found:
        problems.extend(found)
        return None
    defaults = root.defaults
    retry = spec.retries or defaults.retries
    line, _ = parsed.locate(prefix)
    all_vars = {**merged_vars, **spec.vars}
    return Workflow(
        name=spec.name,
        description=spec.description,
        tags=tuple(spec.tags),
        schedule=Schedule(
            cron=spec.schedule.cron, every_s=spec.schedule.every, timezone=spec.schedule.timezone
        ),
        timeout_s=spec.timeout if spec.timeout is not None else defaults.timeout,
        retries=RetryPolicy(
            attempts=retry.attempts,
            backoff_s=retry.backoff,
            max_backoff_s=retry.max_backoff,
            on=frozenset(retry.on),
        ),
        locations=tuple(spec.locations or defaults.locations),
        vars=all_vars,
        enabled=spec.enabled,
        public=spec.public,
        catch_up=spec.catch_up or defaults.catch_up,
        jitter_s=spec.jitter if spec.jitter is not None else defaults.jitter,
        concurrency=spec.concurrency or defaults.concurrency,
        keep_responses=spec.keep_responses or defaults.keep_responses,
        steps=tuple(spec.steps),
        version=_version(item, all_vars),
        source=f"{file}:{line}",
        definition=item,
    )


def _version(item: Any, variables: Mapping[str, Any]) -> str:
    blob = orjson.dumps({"workflow": item, "vars": variables}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:16]


# --- pydantic errors -> precise problems -----------------------------------------------------


def _problems(
    file: Path, parsed: Parsed, prefix: tuple[str | int, ...], data: Any, exc: ValidationError
) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        path = _real_path(data, tuple(err["loc"]))
        full = (*prefix, *path)
        dotted = _dotted(full)
        if dotted in seen:
            continue  # a union reports each alternative; one line per field is enough
        seen.add(dotted)
        message, hint = _message(err, data, path)
        line, col = parsed.locate(full)
        out.append(ConfigProblem(str(file), line, col, dotted, message, hint))
    # `urll:` gives "unknown key 'urll' (did you mean 'url'?)" and "missing 'url'": one
    # mistake, so the second line goes.
    meant = {
        (p.path.rsplit(".", 1)[0], p.hint.split("'")[1])
        for p in out
        if p.hint and p.hint.startswith("did you mean")
    }
    return [
        p
        for p in out
        if not (
            p.message.startswith("missing required key")
            and (p.path.rsplit(".", 1)[0], p.message.split("'")[1]) in meant
        )
    ]


def _real_path(data: Any, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Follow pydantic's loc through the data, dropping union tags and type names."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_list or (isinstance(cur, dict) and part in cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and part in (cur.get("type"), cur.get("kind")):
            continue  # the discriminator tag pydantic adds (a step type, a rule or channel kind)
        elif isinstance(part, str) and ("[" in part or part in _TYPE_WORDS):
            continue  # a union member's name ("int", "list[...]", "function-after[...]")
        else:
            out.append(part)  # a missing key: keep it, its parent locates it
            cur = None
    return tuple(out)


_TYPE_WORDS = frozenset({"int", "str", "float", "bool", "list", "dict", "none", "any"})


def _message(err: Any, data: Any, path: tuple[str | int, ...]) -> tuple[str, str | None]:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        close = difflib.get_close_matches(key, _known_keys(), n=1, cutoff=0.6)
        return f"unknown key {key!r}", (f"did you mean {close[0]!r}?" if close else None)
    if kind == "missing":
        return f"missing required key {str(path[-1])!r}" if path else "missing", None
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        what, names = _union_members(path)
        tag = str(err.get("ctx", {}).get("tag", ""))
        if kind == "union_tag_not_found":
            field = "kind" if what != "step type" else "type"
            return f"missing {what.split()[0]} `{field}`", f"one of {', '.join(names)}"
        close = difflib.get_close_matches(tag, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(names)}"
        return f"unknown {what} {tag!r}", hint
    msg = str(err["msg"])
    if kind == "string_type" and isinstance(err.get("input"), bool):
        return msg, "YAML reads yes/no/on/off/true/false as booleans: quote the text"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if kind == "string_pattern_mismatch" and path and path[-1] == "name":
        return msg, "step names are read in templates as steps.NAME: use letters, digits and _"
    return msg, None


def _union_members(path: tuple[str | int, ...]) -> tuple[str, list[str]]:
    """Which tagged union an error is in, from where it is: steps, channels or rules."""
    if "channels" in path:
        from wfmon.alerts.notifiers import CHANNEL_KINDS

        return "channel kind", list(CHANNEL_KINDS)
    if "rules" in path:
        from wfmon.alerts.rulespecs import RULE_KINDS

        return "rule kind", list(RULE_KINDS)
    from wfmon.runner.steps import STEP_TYPES

    return "step type", list(STEP_TYPES)


def _known_keys() -> list[str]:
    from wfmon.config.base import Extraction, StepBase
    from wfmon.config.schema import DefaultsSpec, RetrySpec, ScheduleSpec
    from wfmon.runner.steps import STEP_TYPES
    from wfmon.runner.steps.http import Auth, BasicAuth

    keys: set[str] = set()
    models: list[Any] = [RootSpec, DefaultsSpec, RetrySpec, ScheduleSpec, StepBase, Extraction]
    models += [Auth, BasicAuth, workflow_model()]
    models += list(STEP_TYPES.values())
    models += alert_config.MODELS
    for model in models:
        for name, info in model.model_fields.items():
            keys.add(info.alias or name)
            ann = info.annotation
            sub = getattr(ann, "model_fields", None)
            if sub:
                keys.update(i.alias or n for n, i in sub.items())
    return sorted(keys)


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
