"""Failure records: one JSON line per failed run in failures.jsonl, and the webhook."""

import json
import socket

from orchestration.ops.failures import (
    config_failure_record,
    failures_path,
    last_failure,
    read_failures,
    report_failure,
)
from orchestration.settings import AlertsConfig


def record(
    run_id: str, error: str = "step erp__customers: IngestError: customers.csv: bad"
) -> dict:
    return {
        "time": "2025-06-01T00:01:02+00:00",
        "run_id": run_id,
        "job": "kam_refresh",
        "failed_steps": ["erp__customers"],
        "failed_checks": [],
        "error": error,
        "will_retry": False,
        "retry_number": 0,
    }


def lines(settings) -> list[dict]:
    return [json.loads(x) for x in failures_path(settings).read_text().splitlines()]


def test_each_run_is_recorded_once_and_posted_to_the_webhook(settings, webhook):
    alerts = AlertsConfig(webhook_url=webhook.url)
    first = report_failure(settings, record("run-a"), alerts)
    again = report_failure(settings, record("run-a"), alerts)  # the sensor after the CLI
    report_failure(settings, record("run-b", "check x failed"), alerts)

    assert (first.written, first.webhook) == (True, "sent (HTTP 200)")
    assert (again.written, again.webhook) == (False, "skipped (recorded before)")
    assert [r["run_id"] for r in lines(settings)] == ["run-a", "run-b"]
    assert webhook.received == [record("run-a"), record("run-b", "check x failed")]
    assert last_failure(settings)["run_id"] == "run-b"


def test_a_failing_webhook_is_reported_never_raised(settings, webhook):
    webhook.status = 500
    server_error = report_failure(settings, record("r1"), AlertsConfig(webhook_url=webhook.url))
    assert server_error.written and server_error.webhook.startswith("failed: HTTPError")

    webhook.status, webhook.delay = 200, 1.0
    slow = AlertsConfig(webhook_url=webhook.url, timeout_seconds=0.2)
    assert report_failure(settings, record("r2"), slow).webhook.startswith("failed: TimeoutError")

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    refused = report_failure(settings, record("r3"), AlertsConfig(webhook_url=closed))
    assert refused.webhook.startswith("failed: URLError")
    assert [r["run_id"] for r in lines(settings)] == ["r1", "r2", "r3"]


def test_without_webhook_only_the_file_and_a_torn_last_line_is_skipped(settings, caplog):
    assert last_failure(settings) is None
    report_failure(settings, record("r1"), AlertsConfig())
    with failures_path(settings).open("a") as f:
        f.write('{"time": "2025-06-02T00:0')  # killed while writing
    assert last_failure(settings)["run_id"] == "r1"
    assert 'skipped a torn or unreadable line: b\'{"time": "2025-06-02T00:0\'' in caplog.text


def test_a_record_after_a_torn_line_starts_on_a_fresh_line_and_stays_readable(settings, caplog):
    report_failure(settings, record("r1"), AlertsConfig())
    with failures_path(settings).open("a") as f:
        f.write('{"time": "2025-06-02T00:0')  # killed while writing
    report_failure(settings, record("r2"), AlertsConfig())

    text = failures_path(settings).read_text()
    assert text.splitlines()[1] == '{"time": "2025-06-02T00:0'
    assert last_failure(settings)["run_id"] == "r2"
    assert [r["run_id"] for r in read_failures(settings)] == ["r1", "r2"]
    assert caplog.text.count("skipped a torn or unreadable line") == 2  # by each reader


def test_failures_before_any_run_have_no_run_id_and_are_all_kept(settings):
    for _ in range(2):
        report_failure(
            settings,
            config_failure_record(
                "bad cron", reported_by="kam refresh", data_dir=settings.data_dir
            ),
            AlertsConfig(),
        )
    assert [(r["run_id"], r["error"]) for r in lines(settings)] == [(None, "bad cron")] * 2


def test_a_killed_run_worker_is_described_by_the_code_servers_explanation(settings):
    from dagster import DagsterInstance, job, op

    from orchestration.ops.failures import failure_record

    @op
    def step():
        pass

    @job
    def refresh():
        step()

    instance = DagsterInstance.ephemeral()
    run = instance.create_run_for_job(refresh, tags={"dagster/schedule_name": "nightly_refresh"})
    # What the code server reports when the process of a run dies (see DagsterApiServer).
    instance.report_engine_event(
        f"[DagsterApiServer] Run execution process for {run.run_id} was terminated by signal 9 "
        "(SIGKILL).",
        run,
    )
    instance.report_run_failed(run)

    rec = failure_record(instance, run.run_id, reported_by="test", data_dir=settings.data_dir)
    assert rec["error"].startswith(
        f"Run execution process for {run.run_id} was terminated by signal 9"
    )
    assert (rec["job"], rec["started_by"], rec["failed_steps"]) == (
        "refresh",
        "schedule nightly_refresh",
        [],
    )
