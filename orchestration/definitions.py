"""The one Definitions object of the kam-warehouse code location."""

from dagster import Definitions, in_process_executor

from orchestration.assets.costing import activity_rates, costing_checks
from orchestration.assets.dbt import kam_dbt_models
from orchestration.assets.ingest import ingest_assets
from orchestration.assets.kam import designation_log
from orchestration.assets.publish import publication
from orchestration.assets.scope import run_scope
from orchestration.checks.freshness import raw_files_freshness
from orchestration.checks.marts import gx_checks
from orchestration.jobs import refresh_job
from orchestration.progress import progress_logger
from orchestration.resources import build_resources
from orchestration.schedules import nightly_refresh
from orchestration.sensors import refresh_failure_alert

defs = Definitions(
    assets=[
        *ingest_assets,
        activity_rates,
        run_scope,
        designation_log,
        kam_dbt_models,
        publication,
    ],
    asset_checks=[*gx_checks, *costing_checks, raw_files_freshness],
    jobs=[refresh_job],
    schedules=[nightly_refresh],
    sensors=[refresh_failure_alert],
    resources=build_resources(),
    loggers={"progress": progress_logger},
    # Runs started from the UI too: every run is one process holding the warehouse lock once
    # (a step per process would have each step take the lock, and the second one fail).
    executor=in_process_executor,
)
