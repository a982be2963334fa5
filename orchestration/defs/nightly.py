"""The nightly refresh: the job, its schedule, and the sensor that records and alerts failures.

The job (ingest -> dbt build (models + tests) -> GX checks -> publish) runs in one process: the
steps share a machine-sized DuckDB budget and run one after the other anyway (each DuckDB query
already uses every core), and process start-up per step would cost more than the small steps.

A retry (run_retries in dagster.yaml) re-runs ALL_STEPS: a fresh refresh of the same files that
depends on nothing the failed run left behind (see docs/operations.md).
"""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
    run_failure_sensor,
)

from orchestration.ops.failures import failure_record, report_failure, reporting_settings
from orchestration.settings import ScheduleConfig, load_schedule

refresh_job = define_asset_job(
    name="kam_refresh",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Refresh: ingest new and changed raw files, rebuild and test the months they "
    "touch, validate, publish.",
    tags={"dagster/retry_strategy": "ALL_STEPS"},
)


def refresh_schedule(config: ScheduleConfig) -> ScheduleDefinition:
    """The refresh (job kam_refresh) on the configured cron, in the configured timezone."""
    return ScheduleDefinition(
        name="nightly_refresh",
        job=refresh_job,
        cron_schedule=config.cron,
        execution_timezone=config.timezone,
        default_status=(
            DefaultScheduleStatus.RUNNING if config.enabled else DefaultScheduleStatus.STOPPED
        ),
        description=f"Refresh (job kam_refresh) at '{config.cron}' in {config.timezone}; "
        "set in config/warehouse.yml, section schedule.",
    )


# With config/warehouse.yml invalid, its schedule section alone (or the default): the code
# location still loads (definitions.py) and the night's run fails on the configuration, alerted.
nightly_refresh = refresh_schedule(load_schedule())


@run_failure_sensor(
    name="refresh_failure_alert",
    monitored_jobs=[refresh_job],
    default_status=DefaultSensorStatus.RUNNING,
    description="Appends each failed kam_refresh run to data/warehouse/logs/failures.jsonl "
    "and POSTs it to alerts.webhook_url (config/warehouse.yml), if set.",
)
def refresh_failure_alert(context: RunFailureSensorContext) -> None:
    settings, alerts = reporting_settings()  # the run may have failed on the configuration
    record = failure_record(
        context.instance,
        context.dagster_run.run_id,
        reported_by="sensor refresh_failure_alert",
        data_dir=settings.data_dir,
    )
    report_failure(settings, record, alerts, context.log)
