"""Run the refresh job in this process and summarise the outcome for a person."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance

from orchestration.defs.resources import FULL_REBUILD_TAG, MAX_RETRIES_TAG
from orchestration.ops.failures import (
    STARTED_BY_TAG,
    failure_record,
    failures_path,
    report_failure,
)
from orchestration.publish.folders import current_publication
from orchestration.settings import Settings


@dataclass(frozen=True)
class RefreshOutcome:
    success: bool
    seconds: float
    current: Path | None
    error: str | None
    log_file: Path
    step_seconds: dict[str, float]
    # Wall-clock timestamps (time.time()): "called", "definitions_loaded", "run_finished", and
    # per step (start, end) from Dagster's event log. The benchmark harness reads them.
    timeline: dict[str, float] = field(default_factory=dict)
    step_windows: dict[str, tuple[float, float]] = field(default_factory=dict)
    run_id: str | None = None
    # Where a failure was recorded, and what became of the webhook (None: the run succeeded).
    failure_report: str | None = None
    # Lines for the summary: optional sources without rows and the marts left empty.
    notes: tuple[str, ...] = ()


def run_refresh(instance: DagsterInstance | None = None, full: bool = False) -> RefreshOutcome:
    """Run the refresh job; `full` rebuilds from scratch (the run forgets everything ingested
    and built once it holds the warehouse lock: scope.runs.reset_warehouse)."""
    called = time.time()
    started = time.monotonic()
    from orchestration.sources.dbt_codegen import write_generated
    from orchestration.validate import gx, helper

    # GX imports in a helper process meanwhile (validate/helper.py)
    helper.start(gx.context_builder(Settings.load()))
    # The one explicit step that writes the dbt files derived from sources/*.yml, before the
    # pipeline (and its dbt manifest) is loaded: a new or changed declaration needs nothing else.
    write_generated()
    from orchestration.definitions import defs

    definitions_loaded = time.time()
    settings = Settings.load()
    instance = instance or (
        DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    )
    job = defs.resolve_job_def("kam_refresh")
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.log_dir / "refresh.log"
    # dagster-dbt echoes dbt's own log to stdout; keep it in a file, progress goes to stderr.
    with log_file.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"progress": {"config": {"log_level": "INFO"}}}},
            # Never retried by a daemon that shares DAGSTER_HOME: it could not re-execute an
            # in-process run, and the record would promise a retry.
            tags={
                STARTED_BY_TAG: "kam refresh",
                MAX_RETRIES_TAG: "0",
                **({FULL_REBUILD_TAG: "true"} if full else {}),
            },
        )
    run_finished = time.time()
    windows = _step_windows(instance, result.run_id)
    report = None if result.success else _record_failure(instance, result.run_id, settings)
    return RefreshOutcome(
        success=result.success,
        seconds=time.monotonic() - started,
        current=current_publication(settings.published_dir),
        error=None if result.success else _failure_text(result),
        log_file=log_file,
        step_seconds={step: end - start for step, (start, end) in windows.items()},
        timeline={
            "called": called,
            "definitions_loaded": definitions_loaded,
            "run_finished": run_finished,
        },
        step_windows=windows,
        run_id=result.run_id,
        failure_report=report,
        notes=_notes(result),
    )


def _notes(result) -> tuple[str, ...]:
    """The `no_rows` lines of the run's ingest assets (defs/ingest.py), in source order."""
    from orchestration.defs.ingest import NO_ROWS

    notes = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            value = event.event_specific_data.materialization.metadata.get(NO_ROWS)
            if value is not None:
                notes.append(str(value.value))
    return tuple(sorted(notes))


def _record_failure(instance: DagsterInstance, run_id: str, settings: Settings) -> str:
    """The same record the daemon's failure sensor writes: no daemon watches this run."""
    record = failure_record(instance, run_id, reported_by="kam refresh", data_dir=settings.data_dir)
    try:
        reported = report_failure(settings, record, settings.alerts)
    except OSError as e:  # a full disk must not hide the refresh's own error
        return f"failure NOT recorded in {failures_path(settings)}: {e}"
    return f"failure recorded in {failures_path(settings)}; webhook {reported.webhook}"


def _failure_text(result) -> str:
    problems = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            err = event.event_specific_data.error
            message = (err.cause.message if err.cause else err.message).strip()
            problems.append(f"step {event.step_key}: {message}")
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.event_specific_data
            if not data.passed and data.severity.value == "ERROR":  # WARN: freshness etc.
                detail = data.description or ""
                problems.append(f"check {data.asset_check_key.to_user_string()} failed {detail}")
    if not problems and (failure := result.get_run_failure_event()) is not None:
        err = failure.event_specific_data.error  # failed outside any step: resources (lock)
        if err is not None:
            problems.append((err.cause.message if err.cause else err.message).strip())
    return "\n  ".join(["", *problems]) if problems else "the run did not succeed"


def _step_windows(instance: DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """(start, end) timestamps per step, from Dagster's own event log."""
    starts, out = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            out[event.step_key] = (starts.get(event.step_key, entry.timestamp), entry.timestamp)
    return out
