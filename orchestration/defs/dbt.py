"""dbt models as Dagster assets (one per model), dbt tests as asset checks."""

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Output,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.resources import WarehouseResource, dbt_cli
from orchestration.scope.run_scope import RunScope, read_scope, scope_path
from orchestration.scope.runs import changed_sources, read_built, widen_to_full
from orchestration.scope.selection import Selection, decide_selection, everything, mark_dirty
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.steering.config import load_kam_config
from orchestration.transform.manifest import (
    is_stale,
    keep_partial_parse,
    load_manifest,
    mart_models,
    topological,
)
from orchestration.validate import gx, helper

# The run scope reaches dbt as the path of scope.json in this environment variable (read by
# dbt_project/macros/scope.sql at execution time). Not the months: their number has no bound,
# and an environment that grows with it stops dbt from starting (E2BIG). Not a --vars entry:
# dbt parses the whole project again whenever --vars change (about 5 s).
SCOPE_ENV = "KAM_DBT_SCOPE_FILE"

# dbt unit tests check SQL logic on fixed rows: the test suite runs them
# (tests/integration/test_refresh_end_to_end.py), a refresh of the data need not.
UNIT_TESTS = "resource_type:unit_test"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when the manifest is missing or older than any dbt file.

    A clean clone has no manifest; parsing here keeps `kam refresh`, `dagster dev` and the
    daemon one-step. The dbt files generated from sources/*.yml are committed and written only
    by `kam dbt-sources` (which `kam refresh` runs first), never here.
    """
    manifest = project.manifest_path
    if is_stale(project.project_dir, manifest):
        # Parallel test workers may import this at once: one parses, the others wait.
        with open(project.project_dir / ".parse.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if is_stale(project.project_dir, manifest):
                dbt_cli().cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return manifest


RUN_SCOPE_KEY = AssetKey(["incremental", "run_scope"])  # orchestration/defs/scope.py


class KamDbtTranslator(DagsterDbtTranslator):
    """Group assets by dbt layer (staging / intermediate / marts) for a readable lineage graph;
    the first models of the graph wait for the run's scope (the months to recompute)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        parents = props.get("depends_on", {}).get("nodes", [])
        if props["resource_type"] == "model" and not any(
            p.startswith(("model.", "seed.", "snapshot.")) for p in parents
        ):
            spec = spec.replace_attributes(deps=[*spec.deps, AssetDep(RUN_SCOPE_KEY)])
        return spec

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            fqn = dbt_resource_props["fqn"]
            return fqn[1] if len(fqn) > 2 else "seeds"
        return super().get_group_name(dbt_resource_props)


def mart_asset_keys() -> list[AssetKey]:
    return [AssetKey([name]) for name in mart_models()]


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=KamDbtTranslator(),
)
def kam_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    settings = warehouse.settings()
    # The GX checks on the marts run next; import GX while this process waits for dbt.
    if not helper.active():
        gx.warm_up(settings)
    dbt_vars = {
        "reporting_currency": settings.reporting_currency,
        "as_of_date": settings.as_of_date,
    }
    # The scoring matrix and lifecycle rules, validated first: a bad file stops the run here.
    dbt_vars |= load_kam_config(settings.scoring_config, settings.lifecycle_config).dbt_vars()
    scope = dbt_scope(settings)
    os.environ[SCOPE_ENV] = str(scope_path(settings).resolve())
    context.log.info(f"dbt scope: {scope.describe()}")
    manifest = load_manifest(dbt_project.manifest_path)
    selection = dbt_selection(context, settings, scope, manifest)
    context.log.info(f"dbt selection: {selection.reason}")
    mark_dirty(settings, selection)
    # First: no node left alone depends on one that dbt rebuilds (Dagster wants the outputs
    # of a multi-asset in topological order).
    yield from not_rebuilt(context, manifest, selection, read_built(settings))
    args = [*build_args(scope, dbt_vars), *selection.exclude_args(manifest, UNIT_TESTS)]
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    keep_partial_parse(
        Path(invocation.target_path), dbt_project.project_dir / dbt_project.target_path
    )


def dbt_selection(
    context: AssetExecutionContext, settings: Settings, scope: RunScope, manifest: dict
) -> Selection:
    """Build only what a changed input reaches (orchestration/scope/selection.py),
    unless someone picked the assets to materialize: then exactly those."""
    if context.selected_asset_keys != set(context.assets_def.keys):
        return everything("a subset of the dbt assets was selected")
    return decide_selection(
        settings,
        manifest,
        full=scope.full,
        changed_sources=changed_sources(settings),
        built=read_built(settings),
    )


def not_rebuilt(
    context: AssetExecutionContext, manifest: dict, selection: Selection, built: dict | None
) -> Iterator[Output | AssetCheckResult]:
    """The models dbt left alone are current all the same (no input changed since the build
    that published them): say so, so the assets downstream (checks, publication) run.

    Their tests are left alone with them (a test any of whose inputs changed always runs, see
    Selection.exclude_args). Each still reports a result: the one the last publication was
    gated on (a blocking check that failed would have stopped it), for exactly these rows.
    """
    translator = KamDbtTranslator()
    published = (built or {}).get("publication") or "the last publication"
    key_of = {
        uid: translator.get_asset_spec(manifest, uid, dbt_project).key
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }
    for uid in topological(manifest, selection.unchanged):
        node = manifest["nodes"][uid]
        if node["resource_type"] != "test":
            key = key_of[uid]
            if key in context.selected_asset_keys:
                yield Output(
                    None,
                    output_name=context.assets_def.get_output_name_for_asset_key(key),
                    metadata={"rebuilt": False, "why": "no input changed since the last build"},
                )
            continue
        parents = {key_of.get(p) for p in node["depends_on"]["nodes"]}
        for check in context.selected_asset_check_keys:
            if check.name != node["name"] or check.asset_key not in parents:
                continue
            yield AssetCheckResult(
                asset_key=check.asset_key,
                check_name=check.name,
                passed=True,
                metadata={"rebuilt": False, "passed_for": published},
                description=f"not run: no input changed since {published}, which passed it",
            )


def dbt_scope(settings: Settings) -> RunScope:
    """The months this run recomputes. Without a working database there is nothing to update
    month by month: the run becomes a full rebuild, recorded in scope.json (so the checks and
    the publication after dbt cover every month too) and in the run's decision (so a failure
    from here on makes the next run full as well)."""
    scope = read_scope(settings)
    if not scope.full and not settings.warehouse_db.exists():
        scope = widen_to_full(settings, "no working database")
    return scope


def build_args(scope: RunScope, dbt_vars: Mapping[str, Any]) -> list[str]:
    """`dbt build` for the scope. A full scope rebuilds every month-partitioned table from
    scratch (--full-refresh: CREATE TABLE AS, the same SQL as a first build), so a full run
    never depends on what an earlier run left; a month scope runs them incrementally, each
    replacing exactly the scope's months (incremental_strategy replace_months)."""
    args = ["build", "--vars", json.dumps(dbt_vars)]
    return [*args, "--full-refresh"] if scope.full else args
