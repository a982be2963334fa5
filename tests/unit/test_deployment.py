"""The production instance (dagster.yaml) and what the code location registers for it."""

import shutil

from dagster import DagsterInstance, DefaultSensorStatus
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.runs import SqliteRunStorage

from orchestration.definitions import defs
from orchestration.settings import PROJECT_ROOT


def test_dagster_yaml_gives_a_persistent_queue_of_one_with_crash_retries(tmp_path, monkeypatch):
    shutil.copy(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:  # an unknown or misspelt key raises here
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert isinstance(instance.run_storage, SqliteRunStorage)
        assert (tmp_path / "history" / "runs.db").exists()
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_max_runtime_seconds == 4 * 3600
        assert instance.get_settings("telemetry")["enabled"] is False
        assert instance.get_settings("nux")["enabled"] is False


def test_failure_sensor_is_registered_and_runs_without_a_click():
    sensor = defs.resolve_sensor_def("refresh_failure_alert")
    assert sensor.default_status == DefaultSensorStatus.RUNNING


def test_every_run_is_one_process_and_a_retry_reruns_all_steps():
    assert defs.resolve_job_def("kam_refresh").tags["dagster/retry_strategy"] == "ALL_STEPS"
    # Ad-hoc materializations from the UI too: the lock is taken once per run process.
    assert defs.resolve_job_def("__ASSET_JOB").executor_def.name == "in_process"
