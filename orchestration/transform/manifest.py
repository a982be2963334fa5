"""Read the dbt project's manifest: which models are marts, which are month-partitioned, in
which order nodes depend on each other; and keep dbt's parse state between runs.

Engine code (no Dagster): the Dagster wiring in defs/dbt.py, validation and publication all
ask the same questions of the same file.
"""

from __future__ import annotations

import json
import os
import shutil
from graphlib import TopologicalSorter
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
# Everything dbt parses: the manifest is stale when any of these is newer.
DBT_INPUTS = (
    "models",
    "seeds",
    "macros",
    "tests",
    "dbt_project.yml",
    "profiles.yml",
)


def load_manifest(path: Path | None = None) -> dict:
    return json.loads((path or MANIFEST_PATH).read_text(encoding="utf-8"))


def mart_models(manifest_path: Path | None = None) -> list[str]:
    """Names of all models under models/marts: what gets validated and published."""
    manifest = load_manifest(manifest_path)
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    )


def partitioned_marts(manifest_path: Path | None = None) -> dict[str, str]:
    """Marts published as one Parquet file per month: name -> month column.

    Declared in the mart's YAML as `config: {meta: {partition_by: month}}`. An incremental run
    recomputes, validates and republishes only the months of its scope (see
    orchestration/scope/run_scope.py); the other months are carried over unchanged.
    """
    manifest = load_manifest(manifest_path)
    return {
        node["name"]: node["config"]["meta"]["partition_by"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["fqn"][1] == "marts"
        and node["config"].get("meta", {}).get("partition_by")
    }


def topological(manifest: dict, nodes: frozenset[str]) -> list[str]:
    """`nodes` with every parent (among `nodes`) before its children; ties in name order, so
    the order is the same from run to run."""
    parents = manifest["parent_map"]
    sorter = TopologicalSorter(
        {uid: [p for p in parents.get(uid, []) if p in nodes] for uid in sorted(nodes)}
    )
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def is_stale(project_dir: Path = DBT_PROJECT_DIR, manifest: Path = MANIFEST_PATH) -> bool:
    """True when the manifest is missing or older than any file dbt parses."""
    files = [p for name in DBT_INPUTS for p in _files(project_dir / name)]
    newest = max((p.stat().st_mtime for p in files), default=0)
    return not manifest.exists() or manifest.stat().st_mtime < newest


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def keep_partial_parse(run_target: Path, target_dir: Path = TARGET_DIR) -> None:
    """Make this run's parse state the one the next run starts from.

    dagster-dbt copies target/partial_parse.msgpack into each run's own target folder, but dbt
    only reuses it when the profile and --vars match the ones it was written with; the file
    `dbt parse` leaves there was written without them, so every run parsed from scratch
    (about 2 s). The next run with the same data folder and currency now parses only what
    changed; any other run notices the mismatch and parses in full, as before.
    """
    state = run_target / "partial_parse.msgpack"
    if not state.exists():
        return
    target = target_dir / "partial_parse.msgpack"
    tmp = target.with_name(f".partial_parse.{os.getpid()}.tmp")
    shutil.copyfile(state, tmp)
    os.replace(tmp, target)
