"""The code location when the configuration is invalid: it still loads, reduced to the refresh
job, its schedule and the failure sensor, with one asset that fails on the problem.

Without it, a broken sources/*.yml or config/warehouse.yml would make the code location fail to
load: the daemon then ticks no schedule and runs no sensor, so the night would pass without a
run, a failure record or an alert. Reduced, the night's run starts, fails in its first step
naming the file, the line and the key, and the failure sensor records and alerts it. The daemon
reloads the code location every minute: once the configuration is fixed the full pipeline is
back, with no restart.
"""

from dagster import AssetExecutionContext, Definitions, asset, in_process_executor

from orchestration.defs.nightly import nightly_refresh, refresh_failure_alert, refresh_job
from orchestration.ops.config_check import load_checked_settings
from orchestration.settings import ConfigError


def config_problem_definitions(problem: ConfigError) -> Definitions:
    @asset(
        name="configuration",
        group_name="config",
        description=f"INVALID CONFIGURATION: the pipeline cannot load. {problem}",
    )
    def configuration(context: AssetExecutionContext) -> None:
        load_checked_settings()  # checked again: it may have been fixed meanwhile
        raise ConfigError(
            "the configuration is valid again but this code location loaded with an invalid "
            f"one ({problem}); reload the code location and run the refresh again"
        )

    return Definitions(
        assets=[configuration],
        jobs=[refresh_job],
        schedules=[nightly_refresh],
        sensors=[refresh_failure_alert],
        executor=in_process_executor,
    )
