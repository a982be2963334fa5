"""What a mart suite in expectations/ takes from the declarations instead of spelling it out.

- `{"$ref": "cost_categories"}` anywhere in a suite (e.g. as the value_set of
  expect_column_values_to_be_in_set) stands for the ids of the one category list
  (categories.py); `resolve_refs` replaces it when the suite is loaded.
- `meta.empty_if_no_rows_in: [source, ...]`: the mart has rows only if each of these optional
  sources (sources/<name>.yml, `required: false`) has accepted rows (e.g. budgets against
  actuals without budgets). In a run where one of them has none, the suite's row-count
  expectations ask for exactly 0 rows (`allow_empty`); otherwise they apply as written.

`suite_problems` is part of `kam sources validate`: an unknown reference, or a source that is
not declared or not optional, is refused before any run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from orchestration.settings import EXPECTATIONS_DIR
from orchestration.sources.categories import cost_categories

REF = "$ref"
REFS: dict[str, Callable[[], list[str]]] = {"cost_categories": lambda: list(cost_categories())}
EMPTY_IF = "empty_if_no_rows_in"
ROW_COUNT = "expect_table_row_count_to_be_between"


class SuiteRefError(ValueError):
    """A suite refers to something the declarations do not have."""


def resolve_refs(value: Any) -> Any:
    """`value` (a suite or a part of it) with every {"$ref": name} replaced by what it names."""
    if isinstance(value, dict):
        if REF in value:
            name = value[REF]
            if len(value) != 1 or name not in REFS:
                raise SuiteRefError(
                    f"unknown reference {json.dumps(value)} (known: "
                    + ", ".join(json.dumps({REF: n}) for n in REFS)
                    + ")"
                )
            return REFS[name]()
        return {k: resolve_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v) for v in value]
    return value


def sources_needed(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """meta.empty_if_no_rows_in of a suite: the sources whose rows the mart needs."""
    names = spec.get("meta", {}).get(EMPTY_IF, [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SuiteRefError(f"meta.{EMPTY_IF} must be a list of source names")
    return tuple(names)


def allow_empty(spec: dict[str, Any], empty: Collection[str]) -> tuple[dict[str, Any], str | None]:
    """The suite for a run in which the sources `empty` have no accepted rows, and why its
    row count was changed (None: the suite as written)."""
    missing = [s for s in sources_needed(spec) if s in empty]
    if not missing:
        return spec, None
    because = f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no rows"
    out = copy.deepcopy(spec)
    for e in out.get("expectations", []):
        if e.get("type") == ROW_COUNT:
            e["kwargs"] = {"min_value": 0, "max_value": 0}
            e["meta"] = {**e.get("meta", {}), "empty_because": because}
    return out, f"empty as expected: {because}"


def marts_empty_without(source: str, suites_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    """The marts whose suite names `source` in meta.empty_if_no_rows_in."""
    marts = []
    for path in sorted(suites_dir.glob("*.json")):
        try:  # an unreadable suite fails its own check; here it names nothing
            meta = json.loads(path.read_text(encoding="utf-8")).get("meta", {})
        except (OSError, json.JSONDecodeError):
            continue
        if source in meta.get(EMPTY_IF, []):
            marts.append(path.stem)
    return marts


def suite_problems(contracts: Mapping[str, Any], suites_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    """Every suite's references and meta.empty_if_no_rows_in checked against the declarations
    (`contracts`: name -> SourceContract); [] when all is well."""
    problems = []
    for path in sorted(suites_dir.glob("*.json")):
        where = f"expectations/{path.name}"
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
            resolve_refs(spec)
            needed = sources_needed(spec)
        except (OSError, json.JSONDecodeError, SuiteRefError) as e:
            problems.append(f"{where}: {e}")
            continue
        for name in needed:
            if name not in contracts:
                problems.append(f"{where}: meta.{EMPTY_IF}: unknown source {name!r}")
            elif contracts[name].required:
                problems.append(
                    f"{where}: meta.{EMPTY_IF}: source {name!r} is required "
                    f"(sources/{name}.yml: required: true), so the mart is never empty for "
                    "want of it; name optional sources only"
                )
    return problems
