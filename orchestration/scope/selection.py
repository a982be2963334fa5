"""Which dbt nodes a month-scoped run builds: only those downstream of an input that changed.

A scoped run (scope.py) already recomputes only the months its changes touch; without a
selection it would still rebuild and test every dbt node, most of them over inputs that did not
change (on a nightly run with a drop of invoice lines: the customer, rate, budget, quotation and
cost-source staging, their conversions, 43 of 126 nodes). A node is left as the last published
build left it when none of its ancestors is a changed source; its tests are skipped with it,
since they would test the same rows again.

The changed sources are the ones with a pending record (pending.py) the run took into its scope.
Everything is built (no selection) when:
- the scope is full (configuration or code changed, no build yet, --full);
- the scoring or lifecycle configuration changed since the last build (it feeds the marts
  through dbt vars, not through a source);
- a pending record is not a dbt source (nothing to select it by): a `kam backfill`, the months
  of a run that did not publish (runs.UNPUBLISHED), a source dbt does not read;
- the previous dbt step did not reach a publication (state.DIRTY_FILE is still there): its nodes may
  hold a half-finished rebuild, so no node can be trusted to be current.
The designation log (kam_history) is rewritten by every publication, so what reads it is always
built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.settings import Settings
from orchestration.state import dirty_file, write_json_atomic

ALWAYS_CHANGED = ("source.kam_warehouse.kam_history.designation_log",)
SOURCE_PREFIX = "source.kam_warehouse.erp."
BUILDABLE = ("model", "seed", "snapshot", "test")


@dataclass(frozen=True)
class Selection:
    """The dbt nodes a run leaves alone (empty: build everything) and why."""

    unchanged: frozenset[str]  # unique ids of models, seeds and tests not built
    reason: str

    def exclude_args(self, manifest: Mapping[str, Any], *always: str) -> list[str]:
        """`--exclude` with the nodes left alone and the selectors in `always`.

        The excluded names include every test left alone, so dbt must exclude nothing more:
        by default (indirect selection `eager`) excluding a model also excludes every test that
        reads it, even a reconciliation whose own model was rebuilt (assert_cost_lines_reconcile
        reads cost_to_serve and the unchanged cost categories). `empty` excludes only what is
        named; `--select fqn:*` (dagster-dbt) selects every test by itself.
        """
        names = [*always, *sorted(manifest["nodes"][uid]["name"] for uid in self.unchanged)]
        args = ["--exclude", " ".join(names)] if names else []  # one value: dagster-dbt re-quotes
        return [*args, "--indirect-selection", "empty"] if self.unchanged else args


def everything(reason: str) -> Selection:
    return Selection(frozenset(), reason)


def unchanged_nodes(manifest: Mapping[str, Any], changed_sources: Iterable[str]) -> set[str]:
    """Models, seeds and tests with no changed source among their ancestors."""
    children = manifest["child_map"]
    affected: set[str] = set()
    todo = [f"{SOURCE_PREFIX}{name}" for name in changed_sources] + list(ALWAYS_CHANGED)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in affected:
                affected.add(child)
                todo.append(child)
    return {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in BUILDABLE and uid not in affected
    }


def decide_selection(
    settings: Settings,
    manifest: Mapping[str, Any],
    *,
    full: bool,
    changed_sources: Iterable[str],
    built: Mapping[str, Any] | None,
) -> Selection:
    changed = sorted(changed_sources)
    if full:
        return everything("full rebuild")
    if dirty_path(settings).exists():
        return everything("the previous dbt build was not published")
    if built is None or built.get("kam_config") != kam_config_fingerprint(settings):
        return everything("scoring or lifecycle configuration changed since the last build")
    requests = [s for s in changed if s.startswith("_")]  # _backfill, _unpublished
    if requests:
        return everything(f"months asked for by {', '.join(requests)}, not by a source")
    unknown = [s for s in changed if f"{SOURCE_PREFIX}{s}" not in manifest["sources"]]
    if unknown:
        return everything(f"changed input(s) that are not dbt sources: {', '.join(unknown)}")
    unchanged = unchanged_nodes(manifest, changed)
    shown = ", ".join(changed) or "none"
    return Selection(
        frozenset(unchanged),
        f"changed sources: {shown}; {len(unchanged)} node(s) with no changed input not rebuilt",
    )


def kam_config_fingerprint(settings: Settings) -> str:
    h = hashlib.blake2b(digest_size=12)
    for path in (settings.scoring_config, settings.lifecycle_config):
        h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()


def dirty_path(settings: Settings) -> Path:
    return dirty_file(settings)


def mark_dirty(settings: Settings, selection: Selection) -> None:
    """Written before dbt starts, removed by the publication (runs.commit_run)."""
    write_json_atomic(dirty_path(settings), {"reason": selection.reason}, indent=None)


def clear_dirty(settings: Settings) -> None:
    dirty_path(settings).unlink(missing_ok=True)
