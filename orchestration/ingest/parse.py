"""Parse one raw file into its part: every raw row, typed, with the problems of its own columns.

A part (`warehouse/state/ingest/<source>/parts/<file key>.parquet`) depends only on the file's
content and the source's declaration, so it is kept between runs and a file is parsed once. The
rules that look beyond the row (references to other sources, exchange rates, duplicate keys)
are applied later, across all parts (rules.py), because their answer changes when other files
change.

Cost per row matters (the benchmark runs this at 50 million invoice lines): the file is typed
in one query and streamed to a compressed Parquet part, so memory stays flat at any size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from orchestration.duck import quote_ident, quote_literal
from orchestration.ingest.file_rules import US_FORMAT, DateWindow, FileRules
from orchestration.ingest.plausibility import typical_sql
from orchestration.ingest.ranges import product_problems
from orchestration.ingest.readers import IngestError, RawFile, RawRead, read_raw, row_offsets
from orchestration.ingest.typed_sql import problem_exprs, typed_expr
from orchestration.sources.contracts import SourceContract


def part_columns(contract: SourceContract) -> str:
    """Columns of a part: the raw file (path relative to data/raw) and data row number, typed
    values, the row's own problems, and the raw record (only for rows whose columns had
    problems, and malformed lines). Accepted outputs have the same columns (load.py)."""
    cols = ", ".join(f"{quote_ident(c.name)} {c.duckdb_type}" for c in contract.columns)
    return (
        f"_source_file VARCHAR, _source_row BIGINT, {cols}, _problems VARCHAR[], "
        "_raw_record VARCHAR"
    )


@dataclass(frozen=True)
class ParsedFile:
    rows: int
    notes: list[str]  # what a person should know about the file as a whole
    typical: dict[str, float | None]  # watched values of the plausibility guard


def parse_file(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    path: Path,
    source_file: str,
    part: Path,
    window: DateWindow,
) -> ParsedFile:
    """Write the part of the raw file at `path` (known as `source_file`, its path relative to
    data/raw) atomically. Dates outside `window` are problems.

    A file that writes a number US-style is parsed a second time, with its locale-dependent
    numbers as problems too (file_rules.py); only such files pay for the second pass.
    """
    tmp = part.with_name(f".{part.name}.tmp")
    rules = FileRules(window=window)
    read = _parse(con, contract, path, source_file, tmp, rules)
    notes = [f"{source_file} {note}" for note in read.notes]
    rows, with_problems, typical = _summary(con, contract, tmp)
    if with_problems and (evidence := _us_number_evidence(con, tmp)):
        _parse(con, contract, path, source_file, tmp, replace(rules, us_numbers=evidence))
        notes.append(
            f"{source_file} writes numbers US-style ({evidence}): its numbers that read "
            "differently in German and US format are quarantined"
        )
        rows, _, typical = _summary(con, contract, tmp)
    os.replace(tmp, part)
    return ParsedFile(rows, notes, typical)


def _summary(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, part: Path
) -> tuple[int, int, dict[str, float | None]]:
    """One pass over the part: its rows, its rows with problems, the plausibility guard's
    typical values."""
    typical = typical_sql(contract)
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE len(_problems) > 0)"
        f"{''.join(', ' + t for t in typical)} FROM read_parquet({quote_literal(str(part))})"
    ).fetchone()
    return row[0], row[1], dict(zip(contract.plausibility, row[2:], strict=True))


def _parse(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    path: Path,
    source_file: str,
    tmp: Path,
    rules: FileRules,
) -> RawRead:
    read = read_raw(
        con,
        path,
        consume=lambda raw: _write_typed(con, contract, raw, source_file, tmp, rules),
        discard=lambda: tmp.unlink(missing_ok=True),
        delimiter=contract.format.delimiter if contract.format else ";",
    )
    if read.rejects:
        _add_malformed_lines(con, contract, tmp, source_file, read.rejects, read.rejected_rows)
    return read


def _us_number_evidence(con: duckdb.DuckDBPyConnection, part: Path) -> str | None:
    """'row 3 unit_price "100.00"' for the first two rows of the part with a number written
    US-style (their first such number)."""
    rows = con.execute(
        f"""
        SELECT _source_row, first(p ORDER BY i) FROM (
            SELECT _source_row, _problems FROM read_parquet({quote_literal(str(part))})
            WHERE len(_problems) > 0
        ), unnest(_problems) WITH ORDINALITY t(p, i)
        WHERE starts_with(p, {quote_literal(US_FORMAT)}) GROUP BY _source_row
        ORDER BY _source_row LIMIT 2
        """
    ).fetchall()
    # p = 'number in US format in unit_price: "100.00" (...)'
    shown = [
        f"row {r} " + p.removeprefix(US_FORMAT).split(" (")[0].replace(": ", " ", 1)
        for r, p in rows
    ]
    return ", ".join(shown) or None


def _add_malformed_lines(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    part: Path,
    source_file: str,
    rejects: list[tuple[int, str, str]],
    rejected_rows: list[int],
) -> None:
    """Row numbers of the typed rows counted accepted lines only: shift them past the lines
    DuckDB could not split, and add those lines (no typed values, their reason, the line)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _malformed ({part_columns(contract)})")
    con.executemany(
        "INSERT INTO _malformed (_source_file, _source_row, _problems, _raw_record) "
        "VALUES (?, ?, [?], ?)",
        [[source_file, row, reason, line] for row, reason, line in rejects],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _offsets AS SELECT unnest(?::BIGINT[]) AS o",
        [row_offsets(rejected_rows)],
    )
    fixed = part.with_name(f"{part.name}.renumbered")
    con.execute(
        f"""
        COPY (
            SELECT * REPLACE (
                _source_row + (SELECT count(*) FROM _offsets WHERE o < p._source_row) AS _source_row
            ) FROM read_parquet({quote_literal(str(part))}) AS p
            UNION ALL SELECT * FROM _malformed
            ORDER BY _source_row
        ) TO {quote_literal(str(fixed))} (FORMAT parquet)
        """
    )
    os.replace(fixed, part)


def _write_typed(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    raw: RawFile,
    source_file: str,
    part: Path,
    file_rules: FileRules,
) -> None:
    """One query: the file's rows typed, with the problems of each row's own columns."""
    rules = replace(file_rules, fmt=raw.fmt)
    missing = [c.name for c in contract.columns if c.name not in raw.columns]
    required_missing = [c for c in missing if contract.column(c).required]
    if required_missing:
        raise IngestError(
            f"{raw.path}: missing column(s) {', '.join(required_missing)} for source "
            f"'{contract.name}' (found: {', '.join(raw.columns.values())})"
        )
    texts, typed, problems = [], [], []
    for i, col in enumerate(contract.columns):
        source = raw.columns.get(col.name)
        rawref = quote_ident(source) if source else "NULL::VARCHAR"
        text, value = f"__kam_x{i}", _value(col.name)
        texts.append(f"NULLIF(TRIM(CAST({rawref} AS VARCHAR)), '') AS {text}")
        typed.append(f"{typed_expr(col, rawref, raw.fmt, text)} AS {value}")
        problems += problem_exprs(col, rawref, value, text, rules)
    problems += product_problems(contract, _value)
    record = ", ".join(f"{quote_literal(src)}: {quote_ident(src)}" for src in raw.columns.values())
    values = ", ".join(
        f"CAST({_value(c.name)} AS {c.duckdb_type}) AS {quote_ident(c.name)}"
        for c in contract.columns
    )
    con.execute(
        f"""
        COPY (
        SELECT {quote_literal(source_file)} AS _source_file, CAST(_row AS BIGINT) AS _source_row,
               {values}, __kam_p AS _problems,
               CASE WHEN len(__kam_p) > 0 THEN CAST(to_json({{{record}}}) AS VARCHAR) END
                   AS _raw_record
        FROM (
            SELECT *, list_filter(
                [{", ".join(problems) or "NULL"}]::VARCHAR[], lambda x: x IS NOT NULL
            ) AS __kam_p
            FROM (
                SELECT *, {", ".join(typed)}
                FROM (SELECT *, {", ".join(texts)} FROM ({raw.relation}))
            )
        )
        ) TO {quote_literal(str(part))} (FORMAT parquet)
        """
    )


def _value(column: str) -> str:
    """Name of a column's typed value inside the parsing query (the raw one keeps its name)."""
    return quote_ident(f"__kam_t_{column}")
