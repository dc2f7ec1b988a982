"""YAML parsing that remembers where every key and value was written (file, line, column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass
class Parsed:
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)

    def locate(self, path: Path) -> tuple[int | None, int | None]:
        """The position of the path, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            pos = self.positions.get(path[:end])
            if pos is not None:
                return pos
        return None, None


class YamlSyntaxError(Exception):
    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        self.line = line
        self.column = column
        super().__init__(message)


# libyaml's loader when PyYAML was built with it (3-4x faster on a 10,000-workflow config);
# it reports the same marks, so positions and messages do not depend on which one runs.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str) -> Parsed:
    """Parse one YAML document with the safe loader; positions are 1-based."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Parsed(data=None)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise YamlSyntaxError(
            message, mark.line + 1 if mark else None, mark.column + 1 if mark else None
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None, None) from exc
    finally:
        loader.dispose()
    parsed = Parsed(data=data)
    _walk(node, (), parsed)
    return parsed


def _walk(node: yaml.Node, path: Path, out: Parsed) -> None:
    out.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            if key in seen:
                out.duplicates.append(
                    (child, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                )
            seen.add(key)
            # A key's own position is where its name is written: what an editor jumps to.
            out.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), out)
