"""Dagster resources: where the warehouse lives, and the dbt CLI."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource

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


def dbt_cli() -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )


def build_resources() -> dict[str, object]:
    return {"warehouse": WarehouseResource(), "dbt": dbt_cli()}
