"""Dagster resources: where the warehouse lives, and the dbt CLI."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from functools import cached_property
from importlib import metadata
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.settings import DBT_PROJECT_DIR, Settings


class WarehouseResource(ConfigurableResource):
    """Settings of this warehouse (data folder, reporting currency, DuckDB limits).

    Read from config/warehouse.yml and KAM_* environment variables at run time, so one code
    location serves the sample, tests and benchmarks alike.
    """

    def settings(self) -> Settings:
        settings = Settings.load()
        settings.ensure_dirs()
        # The dbt subprocess reads its paths and limits from the environment (profiles.yml).
        os.environ.update(settings.dbt_env)
        return settings


def dbt_executable() -> str:
    """The dbt installed next to this Python (works without an activated virtualenv)."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


class KamDbtCliResource(DbtCliResource):
    """DbtCliResource without two start-up costs this project never uses.

    Before every dbt command dagster-dbt (0.29) runs `dbt --version` in a subprocess to learn
    the version, and builds a dbt adapter in this process (loading every dbt macro and starting
    a multiprocessing helper) that is only used to fetch column metadata or row counts, which
    our assets never ask for. Together about 3 s of each refresh (see BENCHMARKS.md). The
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
