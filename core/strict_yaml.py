"""Reading a user's YAML file strictly: what PyYAML accepts silently becomes a clear problem.

PyYAML's `safe_load` keeps the last of two equal keys (a typo'd copy of `sites:` silently
replaces the first), expands aliases without limit (a "billion laughs" document is a few
hundred bytes), recurses once per nesting level, and decodes bytes without saying where a
non-UTF-8 byte sits. Scenario and weights files go through `read_yaml` instead, which turns
each of these into a `ScenarioError`-style problem naming the line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, CollectionStartEvent

MAX_BYTES = 1 << 20  # a scenario is a few KiB; a megabyte is a mistake or an attack
MAX_ALIASES = 100
MAX_DEPTH = 40
MAX_NODES = 100_000  # values after expanding aliases


class StrictYamlError(Exception):
    """One problem with the file as YAML (before any field is looked at)."""


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, alias floods and deep nesting."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise StrictYamlError(f"more than {MAX_ALIASES} alias references (*name) at "
                                      f"{_where(mark)}; write the values out instead")
            return Composer.compose_node(self, parent, index)
        nested = self.check_event(CollectionStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise StrictYamlError(f"nested more than {MAX_DEPTH} levels deep at "
                                      f"{_where(mark)}")
        try:
            return Composer.compose_node(self, parent, index)
        finally:
            if nested:
                self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise StrictYamlError(
                    f"a YAML merge key '<<:' at {_where(key_node.start_mark)} is not supported "
                    "(it hides which keys a mapping really has); write the keys out, or use an "
                    "alias (*name) for a whole value")
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise StrictYamlError(f"a mapping key at {_where(key_node.start_mark)} is a "
                                      f"list or mapping; keys must be plain names") from None
            if key in seen:
                raise StrictYamlError(
                    f"duplicate key {str(key)[:60]!r} at {_where(key_node.start_mark)} (first at "
                    f"{_where(seen[key])}); YAML would keep only the last one")
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_mapping)


def _check_expanded_size(data: Any) -> None:
    """Aliases share objects, so a small file can stand for a huge tree; count it out."""
    stack, seen = [data], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise StrictYamlError(f"expands to more than {MAX_NODES:,} values once aliases "
                                  "(*name) are followed; write the values out instead")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_yaml(text: str) -> Any:
    """Parse YAML text strictly; StrictYamlError says what and where."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
        _check_expanded_size(data)
        return data
    except StrictYamlError:
        raise
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise StrictYamlError(f"not valid YAML at {_where(mark)}: "
                              f"{e.problem or e.context or 'syntax error'}") from None
    except yaml.YAMLError as e:
        raise StrictYamlError(f"not valid YAML: {e}") from None
    except RecursionError:
        raise StrictYamlError("nested too deeply to read") from None
    except (ValueError, OverflowError) as e:  # e.g. a timestamp like 2024-13-45
        raise StrictYamlError(f"a value YAML cannot convert: {e}") from None


def read_yaml(path: Path) -> Any:
    """Read a file as UTF-8 YAML; StrictYamlError for size, encoding and syntax problems."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise StrictYamlError(f"file is {size:,} bytes; expected at most {MAX_BYTES:,} "
                                  "(is this the right file?)")
        raw = path.read_bytes()
    except OSError as e:
        raise StrictYamlError(f"cannot read the file: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise StrictYamlError(f"not UTF-8 text: byte 0x{raw[e.start]:02x} at line {line} "
                              f"(byte offset {e.start}); save the file as UTF-8") from None
    if "\x00" in text:
        raise StrictYamlError("contains NUL bytes; expected a UTF-8 text file")
    return parse_yaml(text)
