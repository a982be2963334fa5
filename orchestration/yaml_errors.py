"""Where a problem in a YAML configuration file is: its line, for a syntax error and for a key.

Every configuration message names the file, the line and the key, e.g.
`config/warehouse.yml, line 9: duckdb.threads: Input should be a valid integer`, so an operator
reading an alert at night finds the spot without reading the whole file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml


def describe_yaml_error(path: Path, error: yaml.YAMLError) -> str:
    """`<path>, line L, column C: not valid YAML: <problem> (<context> at line K)`."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and context_mark and (not mark or context_mark.line != mark.line):
        problem += f" ({context} at line {context_mark.line + 1})"
    elif context:
        problem += f" ({context})"
    return f"{where}: not valid YAML: {problem}"


def where_key(path: Path, loc: Sequence[str | int]) -> str:
    """`<path>, line L: a.b.c`: the line of the deepest part of `loc` the file has (a missing
    key is shown at its parent's line); `<path>: a.b.c` when the file cannot say."""
    key = ".".join(str(p) for p in loc) or "(top)"
    line = key_line(path, loc)
    return f"{path}, line {line}: {key}" if line else f"{path}: {key}"


def key_line(path: Path, loc: Sequence[str | int]) -> int | None:
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    line = None
    for part in loc:
        entry = None  # (node the line is read from, the value node)
        if isinstance(node, yaml.MappingNode):
            # the last of repeated keys, as the loaders let it win
            entry = next(
                ((k, v) for k, v in reversed(node.value) if str(k.value) == str(part)), None
            )
        elif isinstance(node, yaml.SequenceNode) and str(part).isdigit():
            item = node.value[int(part) : int(part) + 1]
            entry = (item[0], item[0]) if item else None
        if entry is None:
            break
        line, node = entry[0].start_mark.line + 1, entry[1]
    return line
