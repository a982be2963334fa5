"""The key-account designation log: every decision (account x scoring date) the warehouse made.

Scores are recomputed from the raw data on every run, but a designation is a decision: once a
later scoring date exists, the decision taken on an earlier date is frozen, with the scores and
the matrix version it was taken under. The log therefore lives outside the disposable working
area, in `<data>/history/designation_log.parquet`: deleting `warehouse/` (a full rebuild) keeps
it. dbt reads it as the source `kam_history.designation_log` (model int_designation_decisions
keeps the frozen rows and adds the new ones), and the publication step writes the new log only
after every check passed, in one atomic rename.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from orchestration.duck import connect, quote_literal
from orchestration.settings import Settings

LOG_FILE = "designation_log.parquet"
DECISIONS_MODEL = "int_designation_decisions"
LOG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("account_id", "VARCHAR"),
    ("scoring_date", "DATE"),
    ("weighted_total", "DECIMAL(5,3)"),
    ("weight_coverage", "DECIMAL(7,6)"),
    ("rank", "BIGINT"),
    ("is_eligible", "BOOLEAN"),
    ("is_key_account", "BOOLEAN"),
    ("designation_reason", "VARCHAR"),
    ("config_version", "VARCHAR"),
    ("decided_at", "TIMESTAMP"),
)


class HistoryError(RuntimeError):
    """The designation log cannot be read or has an unexpected layout."""


def log_path(settings: Settings) -> Path:
    return settings.history_dir / LOG_FILE


def _columns_sql() -> str:
    return ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in LOG_COLUMNS)


def ensure_designation_log(settings: Settings) -> tuple[int, list[str]]:
    """Create an empty log on the first run; check the layout of an existing one.

    Returns (rows, frozen scoring dates as ISO strings).
    """
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(settings)
    try:
        if not path.exists():
            _copy_atomic(con, f"SELECT {_columns_sql()} WHERE false", path)
        src = f"read_parquet({quote_literal(str(path))})"
        try:
            found = [
                (name, str(kind).replace(" ", ""))
                for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
            ]
        except Exception as e:  # a damaged file: say which and stop
            raise HistoryError(f"{path}: cannot read the designation log: {e}") from None
        if found != list(LOG_COLUMNS):
            raise HistoryError(
                f"{path}: unexpected columns {found}; expected {list(LOG_COLUMNS)}. Restore it "
                "from a backup or move it aside (`kam reset-designations`) to rebuild the history"
            )
        rows = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        dates = [
            d.isoformat()
            for (d,) in con.execute(
                f"SELECT DISTINCT scoring_date FROM {src} ORDER BY 1"
            ).fetchall()
        ]
        return rows, dates
    finally:
        con.close()


def persist_designation_log(settings: Settings) -> int:
    """Replace the log with this run's decisions (frozen ones included). Call after publishing."""
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(settings)
    try:
        con.execute(f"ATTACH {quote_literal(str(settings.warehouse_db))} AS work (READ_ONLY)")
        cols = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in LOG_COLUMNS)
        _copy_atomic(
            con,
            f"SELECT {cols} FROM work.main.{DECISIONS_MODEL} ORDER BY scoring_date, account_id",
            path,
        )
        return con.execute(
            f"SELECT count(*) FROM read_parquet({quote_literal(str(path))})"
        ).fetchone()[0]
    finally:
        con.close()


def reset_designation_log(settings: Settings) -> Path | None:
    """Move the log aside (kept as a timestamped backup); the next refresh rebuilds the history
    under the current matrix. Returns the backup path, or None when there was no log."""
    path = log_path(settings)
    if not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"designation_log.{stamp}.parquet")
    os.replace(path, backup)
    return backup


def _copy_atomic(con, query: str, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({query}) TO {quote_literal(str(tmp))} (FORMAT parquet)")
    os.replace(tmp, target)
