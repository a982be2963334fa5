"""With invalid configuration the code location still loads, reduced: the night's run fails on
the problem at once, and the failure sensor records and alerts it."""

import json
import os
import subprocess
import sys

from dagster import DagsterInstance, build_run_status_sensor_context

from orchestration.defs.config_problem import config_problem_definitions
from orchestration.defs.nightly import refresh_failure_alert
from orchestration.ops.failures import failures_path
from orchestration.settings import PROJECT_ROOT, ConfigError, Settings


def run_and_report(defs):
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("kam_refresh").execute_in_process(
        instance=instance, raise_on_error=False
    )
    context = build_run_status_sensor_context(
        sensor_name="refresh_failure_alert",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()
    refresh_failure_alert(context)
    return result


def test_the_nights_run_fails_on_the_problem_and_is_recorded_and_alerted(
    data_root, webhook, monkeypatch
):
    monkeypatch.setenv("KAM_DUCKDB_THREADS", "zwei")
    defs = config_problem_definitions(ConfigError("as loaded"))
    assert defs.resolve_schedule_def("nightly_refresh").cron_schedule == "0 2 * * *"
    [spec] = defs.resolve_asset_graph().get_all_asset_keys()
    assert spec.to_user_string() == "configuration"

    result = run_and_report(defs)

    assert not result.success
    [record] = [json.loads(x) for x in failures_path(Settings.fallback()).read_text().splitlines()]
    assert record["failed_steps"] == ["configuration"]
    assert record["error"].startswith(
        "step configuration: ConfigError: KAM_DUCKDB_THREADS='zwei' (overrides "
    )
    assert record["reported_by"] == "sensor refresh_failure_alert"
    assert webhook.received == [record]  # the variable's problem does not silence the alert


def test_fixed_meanwhile_the_run_asks_for_a_reload(settings):
    result = (
        config_problem_definitions(ConfigError("sources/x.yml, line 3: name"))
        .resolve_job_def("kam_refresh")
        .execute_in_process(raise_on_error=False)
    )
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.cause.message
    assert "valid again but this code location loaded with an invalid one" in message
    assert "(sources/x.yml, line 3: name); reload the code location" in message


def test_the_code_location_loads_reduced_with_a_bad_variable(data_root):
    env = {**os.environ, "KAM_DUCKDB_THREADS": "zwei"}
    code = (
        "from orchestration.definitions import defs\n"
        "print(sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['configuration']"
