"""Failure handling of the nightly refresh: record every failed run, and alert if configured."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from orchestration.failures import failure_record, report_failure
from orchestration.jobs import refresh_job
from orchestration.ops_config import load_ops_config
from orchestration.settings import Settings


@run_failure_sensor(
    name="refresh_failure_alert",
    monitored_jobs=[refresh_job],
    default_status=DefaultSensorStatus.RUNNING,
    description="Appends each failed kam_refresh run to data/warehouse/logs/failures.jsonl "
    "and POSTs it to alerts.webhook_url (config/warehouse.yml), if set.",
)
def refresh_failure_alert(context: RunFailureSensorContext) -> None:
    settings = Settings.load()
    record = failure_record(
        context.instance,
        context.dagster_run.run_id,
        reported_by="sensor refresh_failure_alert",
        data_dir=settings.data_dir,
    )
    report_failure(settings, record, load_ops_config().alerts, context.log)
