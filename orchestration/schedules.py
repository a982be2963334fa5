"""The nightly refresh schedule, from the `schedule:` section of config/warehouse.yml."""

from dagster import DefaultScheduleStatus, ScheduleDefinition

from orchestration.jobs import refresh_job
from orchestration.ops_config import ScheduleConfig, load_ops_config


def refresh_schedule(config: ScheduleConfig) -> ScheduleDefinition:
    """The whole refresh (job kam_refresh) on the configured cron, in the configured timezone."""
    return ScheduleDefinition(
        name="nightly_refresh",
        job=refresh_job,
        cron_schedule=config.cron,
        execution_timezone=config.timezone,
        default_status=(
            DefaultScheduleStatus.RUNNING if config.enabled else DefaultScheduleStatus.STOPPED
        ),
        description=f"Full refresh (job kam_refresh) at '{config.cron}' in {config.timezone}; "
        "set in config/warehouse.yml, section schedule.",
    )


nightly_refresh = refresh_schedule(load_ops_config().schedule)
