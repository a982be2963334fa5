"""Dagster resources: where the warehouse lives, and the dbt CLI."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from functools import cached_property
from importlib import metadata
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from dagster_dbt import DbtCliResource
from packaging import version
from pydantic import PrivateAttr

from orchestration.ops.config_check import load_checked_settings
from orchestration.ops.failures import started_by
from orchestration.ops.lock import (
    LOCK_NAME,
    RefreshLock,
    RefreshLockedError,
    wait_for_leftovers,
)
from orchestration.publish.folders import leftovers, remove_leftovers
from orchestration.settings import DBT_PROJECT_DIR, Settings

# A run with this tag rebuilds from scratch (`kam refresh --full`; from the UI: add the tag).
FULL_REBUILD_TAG = "kam/full_rebuild"
# Dagster's documented run tag for how often a failed run is retried (it has no public constant).
MAX_RETRIES_TAG = "dagster/max_retries"


class WarehouseResource(ConfigurableResource):
    """Settings of this warehouse (data folder, reporting currency, DuckDB limits).

    Read from config/warehouse.yml and KAM_* environment variables at run time, so one code
    location serves the sample, tests and benchmarks alike.

    A run holds the warehouse's refresh lock from resource setup to teardown: with the
    in-process executor that is once per run, around all of its steps. A second refresh,
    from the daemon or `kam refresh`, fails before its first step, naming the holder. Having
    the lock, a run first removes what a killed publication left in data/published/.
    """

    _lock: RefreshLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # A configuration broken since the code location loaded fails the run here, whole.
        settings = load_checked_settings()
        lock = RefreshLock(settings.warehouse_dir / LOCK_NAME)
        run_id = context.run.run_id if context.run else None
        try:
            lock.acquire(run_id, started_by(context.run.tags if context.run else {}))
            wait_for_leftovers(settings.warehouse_db, context.log.info if context.log else print)
        except RefreshLockedError:
            lock.release()
            _do_not_retry(context)
            raise
        self._lock = lock
        # Under the lock no other refresh is publishing: what a killed one left goes now.
        if removed := remove_leftovers(leftovers(settings.published_dir)):
            (context.log.warning if context.log else print)(
                "removed the leftovers of a killed publication: "
                + ", ".join(p.name for p in removed)
            )
        if context.run is not None and context.run.tags.get(FULL_REBUILD_TAG) == "true":
            # Under the lock: no other refresh can be reading what is forgotten here.
            from orchestration.scope.runs import reset_warehouse

            reset_warehouse(settings)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def settings(self) -> Settings:
        settings = Settings.load()
        settings.ensure_dirs()
        # The dbt subprocess reads its paths and limits from the environment (profiles.yml).
        os.environ.update(settings.dbt_env)
        return settings


def _do_not_retry(context: InitResourceContext) -> None:
    """A run turned away by the lock is not retried: the holder is doing the refresh already."""
    if context.instance is not None and context.run is not None:
        context.instance.add_run_tags(context.run.run_id, {MAX_RETRIES_TAG: "0"})


def dbt_executable() -> str:
    """The dbt installed next to this Python (works without an activated virtualenv)."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


class KamDbtCliResource(DbtCliResource):
    """DbtCliResource without two start-up costs this project never uses.

    Before every dbt command dagster-dbt (0.29) runs `dbt --version` in a subprocess to learn
    the version, and builds a dbt adapter in this process (loading every dbt macro and starting
    a multiprocessing helper) that is only used to fetch column metadata or row counts, which
    our assets never ask for. Together about 3 s of each refresh (see docs/benchmarks.md). The
    version is read from the installed dbt-core instead (the dbt executable is the one in
    this environment, see dbt_executable), and no adapter is built. A unit test pins both
    names, so a dagster-dbt upgrade that renames them fails loudly instead of silently.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def dbt_cli() -> DbtCliResource:
    return KamDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )


def build_resources() -> dict[str, object]:
    return {"warehouse": WarehouseResource(), "dbt": dbt_cli()}
