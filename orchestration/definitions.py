"""The one Definitions object of the kam-warehouse code location (wiring only: see defs/).

With an invalid configuration (a file under sources/ or config/, a KAM_* variable) the code
location still loads, reduced to the refresh job, its schedule and the failure sensor, whose
run fails at once on the problem, recorded and alerted (defs/config_problem.py).
"""

from dagster import Definitions, in_process_executor

from orchestration.settings import ConfigError


def _definitions() -> Definitions:
    from orchestration.defs.costing import activity_rates, costing_checks
    from orchestration.defs.dbt import kam_dbt_models
    from orchestration.defs.ingest import ingest_assets, raw_files_freshness
    from orchestration.defs.nightly import nightly_refresh, refresh_failure_alert, refresh_job
    from orchestration.defs.progress import progress_logger
    from orchestration.defs.publication import publication
    from orchestration.defs.resources import build_resources
    from orchestration.defs.scope import run_scope
    from orchestration.defs.steering import designation_log
    from orchestration.defs.validation import gx_checks
    from orchestration.ops.config_check import load_checked_settings

    load_checked_settings()  # every file, not only those read while loading
    return Definitions(
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
        # Runs started from the UI too: every run is one process holding the warehouse lock
        # once (a step per process would have each step take the lock, and the second fail).
        executor=in_process_executor,
    )


try:
    defs = _definitions()
except ConfigError as problem:
    from orchestration.defs.config_problem import config_problem_definitions

    defs = config_problem_definitions(problem)
