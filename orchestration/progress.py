"""A terse console logger: one line per step start/end, check result and pipeline message.

Dagster's default console logger prints every framework event; a person running
`kam refresh` wants to see which step runs, what it did and what failed.
"""

import logging
import re
import sys
import time

from dagster import Field, logger

# dagster-dbt chatter that says nothing to a person running a refresh.
_QUIET_PREFIXES = ("Copying `", "A dbt subsetted execution")
_VARS = re.compile(r"--vars \{.*\}(?= )")
_STEP_EVENTS = {
    "STEP_START": "started",
    "STEP_SUCCESS": "done",
    "STEP_FAILURE": "FAILED",
    "STEP_SKIPPED": "skipped",
}


class _ProgressHandler(logging.Handler):
    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        line = None
        if event is not None:
            kind = event.event_type_value
            if kind in _STEP_EVENTS:
                if kind == "STEP_START":
                    self.started[step] = time.monotonic()
                took = time.monotonic() - self.started.get(step, time.monotonic())
                suffix = f" ({took:.1f} s)" if kind != "STEP_START" else ""
                line = f"{_STEP_EVENTS[kind]:>8}  {step}{suffix}"
            elif kind == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                if not data.passed:
                    line = f"{'CHECK':>8}  {data.asset_check_key.to_user_string()} FAILED"
        elif (
            record.levelno >= logging.INFO
            and meta.get("orig_message")
            and not str(meta["orig_message"]).startswith(_QUIET_PREFIXES)
        ):
            # The dbt command carries the whole scoring matrix as --vars JSON: keep the line short.
            message = _VARS.sub("--vars {...}", str(meta["orig_message"]))
            line = f"{'':>8}  {message}"
        if line:
            self.stream.write(time.strftime("%H:%M:%S ") + line + "\n")
            self.stream.flush()


@logger(
    config_schema={"log_level": Field(str, is_required=False, default_value="INFO")},
    description="Terse progress lines on stderr.",
)
def progress_logger(init_context):
    log = logging.getLogger("kam_progress")
    log.handlers = [_ProgressHandler(sys.stderr)]
    log.setLevel(init_context.logger_config["log_level"])
    log.propagate = False
    return log
