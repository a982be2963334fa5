"""A terse console logger: pipeline messages, failed steps and failed checks, one line each.

Dagster's default console logger prints every framework event; a person running
`kam refresh` wants to see what each step did and what failed. Step timings are printed by
the CLI at the end, from Dagster's event log.
"""

import logging
import re
import sys
import time

from dagster import Field, logger

# dagster-dbt chatter that says nothing to a person running a refresh.
_QUIET_PREFIXES = ("Copying `", "A dbt subsetted execution")
# The dbt command carries the whole scoring matrix as --vars JSON: keep its line short.
_VARS = re.compile(r"--vars \{.*\}(?= )")


class _ProgressHandler(logging.Handler):
    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        line = None
        if event is not None:
            if event.event_type_value == "STEP_FAILURE":
                line = f"FAILED  step {meta.get('step_key')}"
            elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                if not data.passed:
                    line = f"FAILED  check {data.asset_check_key.to_user_string()}"
        elif meta.get("orig_message") and not str(meta["orig_message"]).startswith(_QUIET_PREFIXES):
            line = "        " + _VARS.sub("--vars {...}", str(meta["orig_message"]))
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
