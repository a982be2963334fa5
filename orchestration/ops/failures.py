"""Failed refreshes: one JSON line each in data/warehouse/logs/failures.jsonl, and a webhook.

The daemon's run-failure sensor (sensors.py) and `kam refresh` (runner.py, which runs without a
daemon) both describe a failed run from its Dagster event log and hand the record to
`report_failure`, so a failure looks the same whoever started the run. A run is recorded once
(by run id), even when both see it. A webhook that fails or hangs is logged, never raised: the
failure record is what counts.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, DagsterInstance
from dagster._core.storage.tags import RETRY_NUMBER_TAG, WILL_RETRY_TAG

from orchestration.settings import AlertsConfig, ConfigError, Settings, load_alerts

FAILURES_FILE = "failures.jsonl"
STARTED_BY_TAG = "kam/started_by"  # set by `kam refresh` on its runs
MAX_ERROR_CHARS = 4000
_TAIL_BYTES = 256 * 1024  # enough lines to find a recent run id again
_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.ASSET_CHECK_EVALUATION,
    DagsterEventType.RESOURCE_INIT_FAILURE,
    DagsterEventType.ENGINE_EVENT,
    DagsterEventType.RUN_FAILURE,
}
# Engine events that explain a run worker's death (the code server reports it, not the run).
_CRASH_WORDS = ("terminated by signal", "unexpectedly exited", "interrupted unexpectedly")

log = logging.getLogger(__name__)


def failures_path(settings: Settings) -> Path:
    return settings.log_dir / FAILURES_FILE


def reporting_settings() -> tuple[Settings, AlertsConfig]:
    """Where to record a failure and where to alert, also when the failure is the
    configuration itself: the data folder of KAM_DATA_DIR (or the default) and whatever
    alerting settings are still readable."""
    try:
        settings = Settings.load()
    except ConfigError:
        return Settings.fallback(), load_alerts()
    return settings, settings.alerts


def failure_record(
    instance: DagsterInstance, run_id: str, *, reported_by: str, data_dir: Path
) -> dict[str, Any]:
    """What failed in run `run_id`, read from its event log: failed steps and blocking checks
    with their errors; for a run that died outside a step, why (resources, a killed worker)
    and which step it was in."""
    run = instance.get_run_by_id(run_id)
    tags = run.tags if run else {}
    started: dict[str, None] = {}
    steps: list[str] = []
    checks: list[str] = []
    step_errors: list[str] = []
    run_errors: list[str] = []
    failed_at = None
    for entry in instance.all_logs(run_id, of_type=_EVENTS):
        event = entry.dagster_event
        if event is None:
            continue
        kind, data = event.event_type, event.event_specific_data
        if kind == DagsterEventType.STEP_START:
            started[event.step_key] = None
        elif kind == DagsterEventType.STEP_SUCCESS:
            started.pop(event.step_key, None)
        elif kind == DagsterEventType.STEP_FAILURE:
            started.pop(event.step_key, None)
            steps.append(event.step_key)
            step_errors.append(f"step {event.step_key}: {_message(data.error)}")
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            if not data.passed and data.severity.value == "ERROR":
                checks.append(data.asset_check_key.to_user_string())
                step_errors.append(f"check {checks[-1]} failed: {data.description or ''}".strip())
        elif kind == DagsterEventType.ENGINE_EVENT:
            if any(word in (event.message or "") for word in _CRASH_WORDS):
                run_errors.append(event.message.removeprefix("[DagsterApiServer] "))
        else:  # RESOURCE_INIT_FAILURE, RUN_FAILURE
            if kind == DagsterEventType.RUN_FAILURE:
                failed_at = entry.timestamp
            error = getattr(data, "error", None)
            run_errors.append(_message(error) if error else (event.message or ""))
    steps += list(started)  # started and never finished: the worker died in them
    errors = [e for e in dict.fromkeys(step_errors or run_errors) if e]
    return {
        "time": _iso(failed_at or datetime.now(UTC).timestamp()),
        "run_id": run_id,
        "job": run.job_name if run else None,
        "failed_steps": steps,
        "failed_checks": checks,
        "error": _clip("\n".join(errors) or "the run failed without an error"),
        "will_retry": tags.get(WILL_RETRY_TAG) == "true",
        "retry_number": int(tags.get(RETRY_NUMBER_TAG, 0)),
        "started_by": started_by(tags),
        "reported_by": reported_by,
        "data_dir": str(data_dir),
    }


def started_by(tags: Mapping[str, str]) -> str:
    """Who started a run, from its tags: `kam refresh`, the schedule, a retry, or someone."""
    if STARTED_BY_TAG in tags:
        return tags[STARTED_BY_TAG]
    if "dagster/schedule_name" in tags:
        return f"schedule {tags['dagster/schedule_name']}"
    if RETRY_NUMBER_TAG in tags:
        return f"automatic retry {tags[RETRY_NUMBER_TAG]}"
    return "dagster"


def config_failure_record(error: str, *, reported_by: str, data_dir: Path) -> dict[str, Any]:
    """A refresh stopped before any run existed: by invalid configuration, or a crash while
    loading the pipeline."""
    return {
        "time": _iso(datetime.now(UTC).timestamp()),
        "run_id": None,
        "job": "kam_refresh",
        "failed_steps": [],
        "failed_checks": [],
        "error": _clip(error),
        "will_retry": False,
        "retry_number": 0,
        "started_by": "kam refresh",
        "reported_by": reported_by,
        "data_dir": str(data_dir),
    }


@dataclass(frozen=True)
class Reported:
    written: bool  # False: this run was recorded before (by the sensor or the CLI)
    webhook: str  # "off", "sent (HTTP 200)", "failed: ...", "skipped (recorded before)"


def report_failure(
    settings: Settings,
    record: dict[str, Any],
    alerts: AlertsConfig,
    logger: logging.Logger | Any = log,
) -> Reported:
    """Append `record` to failures.jsonl (once per run id) and POST it to the webhook, if any."""
    path = failures_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with path.open("a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # the sensor and the CLI may report the same run at once
        tail = _tail(f)
        if record["run_id"] and f'"run_id": "{record["run_id"]}"'.encode() in tail:
            return Reported(False, "skipped (recorded before)")
        # A writer killed mid-line left a torn record: start on a fresh line, or this record
        # would be glued to it and unreadable too.
        f.write((b"\n" if tail and not tail.endswith(b"\n") else b"") + line.encode("utf-8"))
    logger.info(f"failure recorded in {path}")
    if not alerts.webhook_url:
        return Reported(True, "off")
    try:
        status = post_json(alerts.webhook_url, record, alerts.timeout_seconds)
    except Exception as e:  # an alert channel problem must never hide the failure itself
        logger.warning(f"failure webhook {alerts.webhook_url} failed: {type(e).__name__}: {e}")
        return Reported(True, f"failed: {type(e).__name__}: {e}")
    logger.info(f"failure webhook {alerts.webhook_url}: HTTP {status}")
    return Reported(True, f"sent (HTTP {status})")


def post_json(url: str, payload: dict[str, Any], timeout: float) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "kam-warehouse"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


def last_failure(settings: Settings) -> dict[str, Any] | None:
    """The newest readable record of failures.jsonl, or None."""
    path = failures_path(settings)
    if not path.exists():
        return None
    with path.open("rb") as f:
        records = _records(path, _tail(f, whole_lines=True))
    return records[-1] if records else None


def read_failures(settings: Settings) -> list[dict[str, Any]]:
    """Every readable record of failures.jsonl, oldest first."""
    path = failures_path(settings)
    return _records(path, path.read_bytes()) if path.exists() else []


def _records(path: Path, text: bytes) -> list[dict[str, Any]]:
    """The JSON lines of `text`; a torn line (disk full, a kill mid-write) is skipped with a
    warning, so it never hides the records around it."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            log.warning(f"{path}: skipped a torn or unreadable line: {line[:80]!r}")
            continue
        records.append(record)
    return records


def _tail(f, whole_lines: bool = False) -> bytes:
    """The last _TAIL_BYTES of `f`; with `whole_lines`, without the partial line they start in."""
    f.seek(0, 2)
    size = f.tell()
    start = max(0, size - _TAIL_BYTES)
    f.seek(start)
    data = f.read()
    if whole_lines and start > 0:
        data = data.partition(b"\n")[2]
    return data


_MODULE_PATH = re.compile(r"^(?:[A-Za-z_]\w*\.)+(?=\w+: )")


def _message(error) -> str:
    """The error's own message, class name without its module path (`IngestError: ...`)."""
    if error is None:
        return "unknown error"
    text = (error.cause.message if error.cause else error.message).strip()
    return _MODULE_PATH.sub("", text)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + " [...]"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
