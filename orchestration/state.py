"""The incremental-refresh state under data/warehouse/state/: every path, one atomic writer.

    state/
      ingest/<source>/ledger.json     processed-files ledger (ingest/ledger.py)
      ingest/<source>/parts/          one typed Parquet part per raw file (ingest/parse.py)
      ingest/<source>/context.parquet the lookups the cross-row rules last used (ingest/load.py)
      pending/<name>.json             months waiting to be recomputed (scope/pending.py);
                                      _unpublished: scopes of runs that did not publish
      scope.json                      the months this run recomputes (scope/run_scope.py)
      scope_taken.json                this run's decision: scope, pending records taken
                                      (scope/runs.py); left by a run that did not publish
      built.json                      what the last published build was made of (scope/runs.py)
      dbt_unpublished.json            dbt started and nothing was published yet (scope/selection.py)
      last_publication                name of the last publication written (publish/)

A reader never sees half a file: every write goes to a temporary file in the same folder and
is renamed over the old one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from orchestration.settings import Settings

# Version of the ingested parts' layout: a change makes the next run rebuild from the raw files.
INGEST_VERSION = "8"

PENDING_DIR = "pending"
SCOPE_FILE = "scope.json"
TAKEN_FILE = "scope_taken.json"
BUILT_FILE = "built.json"
DIRTY_FILE = "dbt_unpublished.json"
LAST_PUBLICATION = "last_publication"
LEDGER_FILE = "ledger.json"


def state_dir(settings: Settings) -> Path:
    return settings.state_dir


def ingest_state_dir(settings: Settings, source: str) -> Path:
    """Ledger, parts and rule context of one source."""
    return settings.state_dir / "ingest" / source


def ledger_file(settings: Settings, source: str) -> Path:
    return ingest_state_dir(settings, source) / LEDGER_FILE


def pending_dir(settings: Settings) -> Path:
    return settings.state_dir / PENDING_DIR


def pending_file(settings: Settings, name: str) -> Path:
    return pending_dir(settings) / f"{name}.json"


def scope_file(settings: Settings) -> Path:
    return settings.state_dir / SCOPE_FILE


def taken_file(settings: Settings) -> Path:
    return settings.state_dir / TAKEN_FILE


def built_file(settings: Settings) -> Path:
    return settings.state_dir / BUILT_FILE


def dirty_file(settings: Settings) -> Path:
    return settings.state_dir / DIRTY_FILE


def last_publication_file(settings: Settings) -> Path:
    return settings.state_dir / LAST_PUBLICATION


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename (the folder is created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json_atomic(path: Path, data: Any, *, indent: int | None = 1, sort_keys=False) -> None:
    """The one JSON writer of the state: a reader sees the old file or the new one."""
    write_text_atomic(path, json.dumps(data, indent=indent, sort_keys=sort_keys))


def read_json(path: Path, default: Any = None) -> Any:
    """The file's JSON, or `default` when there is no such file."""
    if not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))
