"""Unattended operation: a failed refresh is recorded and alerted, from the daemon's sensor and
from `kam refresh` alike; a second refresh is turned away while one runs.

The data set fails in its first ingest step (customers.csv with the wrong columns), so each run
takes seconds: what is tested is what happens after a real failure, not the refresh itself.
"""

import json

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, build_run_status_sensor_context

from orchestration.cli.main import main
from orchestration.cli.runner import run_refresh
from orchestration.definitions import defs
from orchestration.defs.nightly import refresh_failure_alert
from orchestration.ops.failures import failures_path
from orchestration.ops.lock import LOCK_NAME, RefreshLock
from tests.conftest import RATES

BAD_CUSTOMERS = "kunde;name\nC1;Müller\n"


@pytest.fixture
def broken(settings, write_raw):
    write_raw("exchange_rates", "rates.csv", RATES)  # a required source: present
    write_raw("customers", "customers.csv", BAD_CUSTOMERS)
    return settings


def records(settings) -> list[dict]:
    path = failures_path(settings)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_failing_kam_refresh_writes_the_record_and_posts_it(broken, webhook):
    outcome = run_refresh()

    assert not outcome.success
    [record] = records(broken)
    assert record["run_id"] == outcome.run_id
    assert record["job"] == "kam_refresh"
    assert record["failed_steps"] == ["erp__customers"]
    assert "customers.csv: missing column(s) customer_id" in record["error"]
    assert (record["started_by"], record["reported_by"]) == ("kam refresh", "kam refresh")
    assert record["will_retry"] is False
    assert webhook.received == [record]
    assert "webhook sent (HTTP 200)" in outcome.failure_report


def test_failure_sensor_on_a_real_failed_run_writes_the_record_and_posts_it(broken, webhook):
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("kam_refresh").execute_in_process(
        instance=instance, raise_on_error=False
    )
    assert not result.success
    context = build_run_status_sensor_context(
        sensor_name="refresh_failure_alert",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()

    refresh_failure_alert(context)
    refresh_failure_alert(context)  # evaluated again (or the CLI saw it too): recorded once

    [record] = records(broken)
    assert record["run_id"] == result.run_id
    assert record["failed_steps"] == ["erp__customers"]
    assert "customers.csv: missing column(s)" in record["error"]
    assert record["reported_by"] == "sensor refresh_failure_alert"
    assert webhook.received == [record]


def test_sensor_survives_a_dead_webhook(broken, monkeypatch):
    monkeypatch.setenv("KAM_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/nobody-listens")
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
    refresh_failure_alert(context)  # must not raise
    assert [r["run_id"] for r in records(broken)] == [result.run_id]


def test_refresh_while_another_runs_fails_fast_naming_it_and_is_recorded(settings, webhook):
    holder = RefreshLock(settings.warehouse_dir / LOCK_NAME)
    holder.acquire("the-nightly-run", "schedule nightly_refresh")
    try:
        outcome = run_refresh()
    finally:
        holder.release()

    assert not outcome.success
    assert "another refresh is running on this warehouse" in outcome.error
    assert "by schedule nightly_refresh, run the-nightly-run" in outcome.error
    assert outcome.step_seconds == {}  # not one step ran
    [record] = records(settings)
    assert record["failed_steps"] == []
    assert "RefreshLockedError: another refresh is running" in record["error"]
    assert webhook.received == [record]


def test_kam_refresh_stopped_by_a_bad_schedule_is_recorded_too(settings, webhook, monkeypatch):
    monkeypatch.setenv("KAM_SCHEDULE_CRON", "every night")

    result = CliRunner().invoke(main, ["refresh"])

    assert result.exit_code == 1
    assert (
        "refresh FAILED before it started: KAM_SCHEDULE_CRON='every night' (overrides"
        in result.output
    )
    [record] = records(settings)
    assert record["run_id"] is None
    assert "schedule.cron): 'every night' is not a cron schedule" in record["error"]
    assert webhook.received == [record]  # a bad cron does not silence the alert about it


def test_an_unknown_reporting_currency_is_one_early_error_recorded_and_alerted(
    settings, base_sources, webhook, monkeypatch
):
    monkeypatch.setenv("KAM_REPORTING_CURRENCY", "JPY")

    outcome = run_refresh()

    assert not outcome.success
    [record] = records(settings)
    assert (record["failed_steps"], record["failed_checks"]) == (["erp__exchange_rates"], [])
    assert record["error"].startswith(
        "step erp__exchange_rates: ConfigError: KAM_REPORTING_CURRENCY='JPY' (overrides "
    )
    assert (
        f"no exchange rates into JPY: the rates in {settings.raw_dir / 'exchange_rates'} convert "
        "into CHF only" in record["error"]
    )
    assert webhook.received == [record]
