"""Find a source's files and load each, untouched, into DuckDB with its file name and row number.

CSV is read as text (typing happens in SQL, see parsing.py); Parquet keeps its native types.
Rows DuckDB cannot split into the declared number of fields come back as structural rejects.
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.duck import quote_literal

SUFFIXES = {".csv": "csv", ".parquet": "parquet"}


class IngestError(ValueError):
    """A whole file cannot be read (wrong columns, unknown format); names the file."""


@dataclass(frozen=True)
class RawFile:
    path: Path
    fmt: str
    columns: dict[str, str]  # normalized header name -> name as delivered
    rejects: list[tuple[int, str, str]]  # (row, reason, raw line) for malformed CSV rows


def discover(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    return files


def discover_source(raw_dir: Path, folder: str, pattern: str | None, fmt: str | None) -> list[Path]:
    """The files of a source: `pattern` (glob relative to raw_dir) or every file in `folder`.

    A match that resolves outside raw_dir (a symlink pointing elsewhere) stops the ingest: a
    declaration can never make the pipeline read outside the raw folder.
    """
    root = raw_dir.resolve()
    candidates = sorted(raw_dir.glob(pattern)) if pattern else discover(raw_dir / folder)
    files = []
    for p in candidates:
        if p.suffix.lower() not in SUFFIXES or not p.is_file():
            continue
        if not p.resolve().is_relative_to(root):
            raise IngestError(f"{p}: resolves outside {raw_dir} ({p.resolve()}); not read")
        if fmt is None or SUFFIXES[p.suffix.lower()] == fmt:
            files.append(p)
    return files


def load_raw(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, delimiter: str = ";"
) -> RawFile:
    """Create temp table `table` with the file's columns plus `_row` (1 = first data row)."""
    fmt = SUFFIXES[path.suffix.lower()]
    if fmt == "parquet":
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * EXCLUDE (file_row_number), "
            f"file_row_number + 1 AS _row FROM read_parquet({quote_literal(str(path))}, "
            f"file_row_number = true)"
        )
        rejects: list[tuple[int, str, str]] = []
    else:
        rejects = _load_csv(con, path, table, delimiter)
    names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "_row"]
    return RawFile(path, fmt, {n.strip().lower(): n for n in names}, rejects)


def _load_csv(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, delimiter: str = ";"
) -> list[tuple[int, str, str]]:
    rejects = _read_csv(con, path, table, delimiter)
    if any(kind in ("INVALID UNICODE", "INVALID ENCODING") for _, kind, _, _ in rejects):
        # Not UTF-8: German ERPs write Windows-1252. Transcode (streaming) and read again.
        with tempfile.TemporaryDirectory() as tmp:
            utf8 = Path(tmp) / path.name
            _transcode_cp1252(path, utf8)
            rejects = _read_csv(con, utf8, table, delimiter)
    if not rejects:
        return []
    _renumber_rows(con, table, sorted(line - 1 for line, _, _, _ in rejects))
    return [(line - 1, f"malformed CSV row: {msg}", raw) for line, _, msg, raw in rejects]


def _read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, delimiter: str = ";"
) -> list[tuple]:
    con.execute("DROP TABLE IF EXISTS _csv_reject_errors; DROP TABLE IF EXISTS _csv_reject_scans")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * EXCLUDE (ordinality), "
            f"ordinality AS _row FROM read_csv({quote_literal(str(path))}, "
            f"delim = {quote_literal(delimiter)}, "
            "header = true, all_varchar = true, quote = '\"', escape = '\"', auto_detect = true, "
            "store_rejects = true, rejects_table = '_csv_reject_errors', "
            "rejects_scan = '_csv_reject_scans', rejects_limit = 0) WITH ORDINALITY"
        )
    except duckdb.Error as e:
        raise IngestError(f"{path}: cannot be read as a {delimiter!r}-separated CSV: {e}") from None
    # One row per rejected line (DuckDB reports e.g. each missing column separately).
    return con.execute(
        "SELECT line, min(error_type), min(error_message), min(csv_line) "
        "FROM _csv_reject_errors GROUP BY line ORDER BY line"
    ).fetchall()


def _renumber_rows(con: duckdb.DuckDBPyConnection, table: str, rejected_rows: list[int]) -> None:
    """`_row` counts accepted rows only; shift it past the rejected rows to the file's row number.

    With rejected data rows r_1 < r_2 < ..., the k-th accepted row is data row
    k + #{j : r_j - j < k}.
    """
    offsets = [r - j for j, r in enumerate(rejected_rows, start=1)]
    con.execute(
        f"UPDATE {table} SET _row = _row + (SELECT count(*) FROM unnest(?::BIGINT[]) t(o) "
        "WHERE o < _row)",
        [offsets],
    )


def _transcode_cp1252(src: Path, dst: Path) -> None:
    try:
        with src.open("rb") as fin, dst.open("wb") as fout:
            reader = codecs.getreader("cp1252")(fin, errors="strict")
            writer = codecs.getwriter("utf-8")(fout)
            shutil.copyfileobj(reader, writer, 1 << 20)
    except UnicodeDecodeError as e:
        raise IngestError(
            f"{src}: neither UTF-8 nor Windows-1252 (byte {e.object[e.start : e.end]!r} "
            f"at offset {e.start} of a chunk)"
        ) from None
