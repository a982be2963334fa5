"""Find a source's files and stream each, untouched, into a query with its row numbers.

CSV is read as text (typing happens in SQL, see parsing.py); Parquet keeps its native types.
Rows DuckDB cannot split into the declared number of fields come back as structural rejects.

A file is not copied into a table first: `read_raw` hands the caller a relation (a SELECT over
`read_csv`/`read_parquet` with the file's columns and `_row`, 1 = first data row) for the one
query that types it. Only when that read turns out not to be UTF-8 is the file transcoded and
read again (the caller discards what it wrote), and only when DuckDB rejected malformed lines
must the caller shift the row numbers past them (`row_offsets`).
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.duck import quote_literal
from orchestration.ingest.encodings import (
    EncodingError,
    line_as_cp1252,
    mixed_encoding_reason,
    transcode_cp1252,
    utf8_evidence,
)

SUFFIXES = {".csv": "csv", ".parquet": "parquet"}
ENCODING_ERRORS = ("INVALID UNICODE", "INVALID ENCODING")


class IngestError(ValueError):
    """A whole file cannot be read (wrong columns, unknown format); names the file."""


@dataclass(frozen=True)
class RawFile:
    path: Path
    fmt: str
    columns: dict[str, str]  # normalized header name -> name as delivered
    relation: str  # SELECT <the file's columns>, _row FROM <reader>


@dataclass(frozen=True)
class RawRead:
    rejects: list[tuple[int, str, str]]  # (row, reason, raw line) for malformed CSV rows
    rejected_rows: list[int]  # their data row numbers, ascending (see row_offsets)
    notes: list[str] = field(default_factory=list)  # about the file as a whole


@dataclass(frozen=True)
class _Reject:
    """A line DuckDB could not read (line 1 = the header)."""

    line: int
    kind: str
    message: str
    raw: str
    column: str | None


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


def read_raw(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    consume: Callable[[RawFile], None],
    discard: Callable[[], None],
    delimiter: str = ";",
) -> RawRead:
    """Run `consume(raw)` (one query over `raw.relation`) for the file at `path`.

    If the CSV is not UTF-8 (German ERPs write Windows-1252), `discard()` undoes what
    `consume` wrote, and the file is transcoded and consumed again.
    """
    fmt = SUFFIXES[path.suffix.lower()]
    _stop_if_empty(path, fmt)
    if fmt == "parquet":
        relation = (
            f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row "
            f"FROM read_parquet({quote_literal(str(path))}, file_row_number = true)"
        )
        consume(_bind(con, path, fmt, relation))
        return RawRead([], [])
    errors = _stream_csv(con, path, path, consume, delimiter)
    if not any(e.kind in ENCODING_ERRORS for e in errors):
        return _raw_read(errors)
    if evidence := utf8_evidence(path):  # UTF-8 and Windows-1252 rows: keep the UTF-8 read
        rejects = [
            (e.line - 1, mixed_encoding_reason(e.column, evidence), line_as_cp1252(path, e.line))
            if e.kind in ENCODING_ERRORS
            else (e.line - 1, f"malformed CSV row: {e.message}", e.raw)
            for e in errors
        ]
        note = (
            f"mixes encodings (line {evidence.line} is UTF-8, other lines are not): "
            "its rows that are not UTF-8 are quarantined"
        )
        return RawRead(rejects, sorted(e.line - 1 for e in errors), [note])
    discard()
    with tempfile.TemporaryDirectory() as tmp:
        utf8 = Path(tmp) / path.name
        try:
            transcode_cp1252(path, utf8)
        except EncodingError as e:
            raise IngestError(str(e)) from None
        return _raw_read(_stream_csv(con, path, utf8, consume, delimiter))


def _raw_read(errors: list[_Reject]) -> RawRead:
    return RawRead(
        rejects=[(e.line - 1, f"malformed CSV row: {e.message}", e.raw) for e in errors],
        rejected_rows=sorted(e.line - 1 for e in errors),
    )


def _stop_if_empty(path: Path, fmt: str) -> None:
    """A file without even a header row is a failed export, not a delivery of no rows (that is a
    header-only CSV): how many rows are missing is unknown, so the refresh stops."""
    size = path.stat().st_size
    if size > 4096:
        return
    if path.read_bytes().removeprefix(codecs.BOM_UTF8).strip() == b"":
        no_rows = "the header row" if fmt == "csv" else "the columns"
        raise IngestError(
            f"{path}: empty file ({size} bytes, no header row): a failed or interrupted export? "
            f"Replace it with the complete export, or delete it (a file with {no_rows} and no "
            "data rows is how a source delivers no rows)."
        )


def _bind(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, relation: str, delimiter: str = ";"
) -> RawFile:
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall() if r[0] != "_row"]
    except duckdb.Error as e:
        if fmt != "csv":
            raise
        raise unreadable_csv(path, delimiter, e) from None
    return RawFile(path, fmt, {n.strip().lower(): n for n in names}, relation)


def _stream_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    readable: Path,
    consume: Callable[[RawFile], None],
    delimiter: str = ";",
) -> list[_Reject]:
    """Consume the CSV at `readable` (reported as `path`); return DuckDB's rejected lines."""
    con.execute("DROP TABLE IF EXISTS _csv_reject_errors; DROP TABLE IF EXISTS _csv_reject_scans")
    relation = (
        f"SELECT * EXCLUDE (ordinality), ordinality AS _row FROM read_csv("
        f"{quote_literal(str(readable))}, delim = {quote_literal(delimiter)}, header = true, "
        "all_varchar = true, "
        "quote = '\"', escape = '\"', auto_detect = true, store_rejects = true, "
        "rejects_table = '_csv_reject_errors', rejects_scan = '_csv_reject_scans', "
        "rejects_limit = 0) WITH ORDINALITY"
    )
    raw = _bind(con, path, "csv", relation, delimiter)
    try:
        consume(raw)
    except duckdb.InvalidInputException as e:
        raise unreadable_csv(path, delimiter, e) from None
    # One row per rejected line. DuckDB reports each missing column separately, counting up
    # ("Found: 6", "Found: 7", ...): the first column's report has the true count.
    rows = con.execute(
        "SELECT line, arg_min(error_type, column_idx), arg_min(error_message, column_idx), "
        "arg_min(csv_line, column_idx), arg_min(column_name, column_idx) "
        "FROM _csv_reject_errors GROUP BY line ORDER BY line"
    ).fetchall()
    return [_Reject(*r) for r in rows]


def unreadable_csv(path: Path, delimiter: str, error: duckdb.Error) -> IngestError:
    """The reason a whole CSV cannot be read, in a line or two: DuckDB's own message lists the
    dialects it tried and generic fixes. An unclosed quote is the usual cause; it swallows every
    row after it, so the file stops the refresh and the line that opens it is named."""
    if (line := unclosed_quote(path)) is not None:
        number, text = line
        return IngestError(
            f"{path}: cannot be read as a {delimiter!r}-separated CSV: line {number} opens a "
            f'quote (") that no later field closes: {text[:160]!r}. Remove or close the quote '
            "and export the file again."
        )
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return IngestError(f"{path}: cannot be read as a {delimiter!r}-separated CSV: {first}")


def unclosed_quote(path: Path) -> tuple[int, str] | None:
    """The first line (1-based, header included) with an odd number of quote characters, when
    the file as a whole has one (a quoted field may hold a line break and is then balanced)."""
    opened: tuple[int, str] | None = None
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if raw.count(b'"') % 2:
                opened = None if opened else (number, raw.decode("utf-8", "replace").rstrip())
    return opened


def row_offsets(rejected_rows: list[int]) -> list[int]:
    """Row numbers of a read count accepted lines only. With rejected data rows r_1 < r_2 < ...,
    the k-th accepted row is data row k + #{j : o_j < k}, o_j = r_j - j (these offsets)."""
    return [r - j for j, r in enumerate(sorted(rejected_rows), start=1)]
