"""Ingest one raw source: parse every file, apply the declared rules, split accepted/quarantined.

Output (written atomically, so a failed ingest leaves the previous result in place):
- `<ingested_dir>/<source>.parquet`: accepted rows, typed, with `_source_file` and `_source_row`
- `<quarantine_dir>/<source>.parquet`: rejected rows with file, row, reason and the raw record
Invariant (a blocking asset check): raw rows = accepted + quarantined.

Cost per row and memory matter (the benchmark in bench/ runs this at 50 million invoice lines):
each file is typed and checked in one query that also applies the rules needing only the row and
small lookup tables (references, exchange rates), and is written as a compressed Parquet part, so
memory stays flat however big the source is. Only the duplicate rule looks across rows; it
narrows the candidates with a hash aggregate before it sorts anything. The outputs are then
written from the parts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.duck import connect, quote_ident, quote_literal
from orchestration.ingest.contracts import EXCHANGE_RATES, SourceContract
from orchestration.ingest.parsing import problem_exprs, typed_expr
from orchestration.ingest.readers import (
    IngestError,
    RawFile,
    discover_source,
    read_raw,
    row_offsets,
)
from orchestration.settings import Settings


@dataclass
class IngestResult:
    source: str
    files: list[str] = field(default_factory=list)
    raw_rows: int = 0
    accepted_rows: int = 0
    quarantined_rows: int = 0
    duplicate_rows: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Lookups:
    """Small tables the row rules join against, built once per source."""

    references: list[tuple[str, str, str]]  # (column, referenced source, lookup table)
    rates: str | None  # table (currency, first_rate_date, rates) into the reporting currency


def ingest_source(contract: SourceContract, settings: Settings) -> IngestResult:
    settings.ensure_dirs()
    files = discover_source(settings.raw_dir, contract.folder, contract.files, contract.file_type)
    con = connect(settings)
    parts = Path(tempfile.mkdtemp(prefix=f"ingest-{contract.name}-", dir=settings.temp_dir))
    try:
        result = IngestResult(contract.name, [str(f) for f in files])
        _create_rejects_table(con, contract)
        lookups = _create_lookups(con, contract, settings)
        for file_id, path in enumerate(files):
            _parse_file(con, contract, path, file_id, lookups, settings, parts)
        _create_parsed_view(con, parts)
        _stop_on_unknown_cost_categories(con, contract, files)
        _stop_on_unmapped_category_values(con, contract, files)
        duplicates = _mark_duplicates(con, contract, files)
        _write_outputs(con, contract, settings, result, files, duplicates)
        return result
    finally:
        con.close()
        shutil.rmtree(parts, ignore_errors=True)


def _columns(contract: SourceContract) -> str:
    """Columns of a parsed row: file (its position in the sorted file list, not its path: at
    tens of millions of rows a repeated path would dominate), row, typed values, reasons."""
    cols = ", ".join(f"{quote_ident(c.name)} {c.duckdb_type}" for c in contract.columns)
    return f"_file_id INTEGER, _source_row BIGINT, {cols}, _problems VARCHAR[], _raw_record VARCHAR"


def _create_rejects_table(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    """CSV lines DuckDB could not split into the declared fields (no typed values)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rejects ({_columns(contract)})")


def _create_parsed_view(con: duckdb.DuckDBPyConnection, parts: Path) -> None:
    """`_parsed`: every raw row, the parts in file order, then the rejected lines."""
    if any(parts.glob("part-*.parquet")):
        glob = quote_literal(str(parts / "part-*.parquet"))
        source = f"SELECT * FROM read_parquet({glob}) UNION ALL BY NAME SELECT * FROM _rejects"
    else:
        source = "SELECT * FROM _rejects"
    con.execute(f"CREATE OR REPLACE TEMP VIEW _parsed AS {source}")


def _create_lookups(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, settings: Settings
) -> _Lookups:
    """Accepted values of referenced sources, and the first rate date per currency.

    A reference is unknown when its value is not among the referenced source's accepted
    non-null values in any of the reference's target columns. A rate exists on or before a date
    exactly when the first rate date is on or before it. Both rules become hash joins against
    tables of a few thousand rows.
    """
    refs = []
    for i, ref in enumerate(contract.references):
        target = quote_literal(str(settings.ingested_dir / f"{ref.source}.parquet"))
        table = f"_ref_{i}"
        known = " UNION ".join(
            f"SELECT {quote_ident(c)} AS v FROM read_parquet({target}) "
            f"WHERE {quote_ident(c)} IS NOT NULL"
            for c in ref.target_columns
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {known}")
        refs.append((ref.column, ref.source, table))
    rates = None
    if contract.currency and contract.name != EXCHANGE_RATES:
        path = quote_literal(str(settings.ingested_dir / f"{EXCHANGE_RATES}.parquet"))
        rates = "_rates_into"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {rates} AS
            SELECT from_currency AS currency, min(rate_date) AS first_rate_date, count(*) AS rates
            FROM read_parquet({path})
            WHERE to_currency = {quote_literal(settings.reporting_currency)}
            GROUP BY ALL
            """
        )
    return _Lookups(refs, rates)


def _parse_file(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    path: Path,
    file_id: int,
    lookups: _Lookups,
    settings: Settings,
    parts: Path,
) -> None:
    """Type one file's rows and apply every rule that needs only the row and small lookups.

    Reasons come in this order: the columns' own problems, then unknown references, then (only
    for an otherwise clean row) a missing exchange rate. The raw record is kept for rows whose
    columns had problems; rows rejected by later rules show their typed values instead.
    """
    part = parts / f"part-{file_id:06d}.parquet"
    read = read_raw(
        con,
        path,
        consume=lambda raw: _write_typed(con, contract, raw, file_id, lookups, settings, part),
        discard=lambda: part.unlink(missing_ok=True),
        delimiter=contract.format.delimiter if contract.format else ";",
    )
    if read.rejected_rows:
        # Row numbers counted accepted lines only: shift them past the rejected lines.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _offsets AS SELECT unnest(?::BIGINT[]) AS o",
            [row_offsets(read.rejected_rows)],
        )
        fixed = part.with_name(f"{part.stem}.renumbered.parquet")
        con.execute(
            f"COPY (SELECT * REPLACE (_source_row + (SELECT count(*) FROM _offsets "
            f"WHERE o < p._source_row) AS _source_row) FROM read_parquet("
            f"{quote_literal(str(part))}) AS p) TO {quote_literal(str(fixed))} (FORMAT parquet)"
        )
        os.replace(fixed, part)
    for row, reason, line in read.rejects:
        con.execute(
            "INSERT INTO _rejects (_file_id, _source_row, _problems, _raw_record) "
            "VALUES (?, ?, [?], ?)",
            [file_id, row, reason, line],
        )


def _write_typed(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    raw: RawFile,
    file_id: int,
    lookups: _Lookups,
    settings: Settings,
    part: Path,
) -> None:
    """One query: the file's rows typed, with the reasons of every row-local rule, as `part`."""
    path = raw.path
    missing = [c.name for c in contract.columns if c.name not in raw.columns]
    required_missing = [c for c in missing if contract.column(c).required]
    if required_missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(required_missing)} for source "
            f"'{contract.name}' (found: {', '.join(raw.columns.values())})"
        )
    texts, typed, problems = [], [], []
    for i, col in enumerate(contract.columns):
        source = raw.columns.get(col.name)
        rawref = quote_ident(source) if source else "NULL::VARCHAR"
        text, value = f"__kam_x{i}", _value(col.name)
        texts.append(f"NULLIF(TRIM(CAST({rawref} AS VARCHAR)), '') AS {text}")
        typed.append(f"{typed_expr(col, rawref, raw.fmt, text)} AS {value}")
        problems += problem_exprs(col, rawref, value, text)
    # The lookups are joined in one level; their columns get names no raw header can have
    # clashed with, and the next levels compute the reasons from them.
    joins, looked_up, ref_problems = [], [], []
    for i, (column, source, table) in enumerate(lookups.references):
        value, found = _value(column), f"__kam_r{i}"
        joins.append(f"LEFT JOIN {table} AS _r{i} ON _r{i}.v = __kam_c.{value}")
        looked_up.append(f"_r{i}.v AS {found}")
        ref_problems.append(
            f"CASE WHEN {value} IS NOT NULL AND {found} IS NULL THEN 'unknown {column} ''' "
            f"|| {value} || ''' (not an accepted row of {source})' END"
        )
    rate_problem = "NULL::VARCHAR"
    if lookups.rates:
        rule = contract.currency
        assert rule is not None
        cur, reporting = _value(rule.column), quote_literal(settings.reporting_currency)
        if rule.date_column:
            day = _value(rule.date_column)
            has_rate = f"coalesce(__kam_fx_first <= {day}, false)"
            detail = f"' on or before ' || strftime({day}, '%d.%m.%Y')"
        else:
            has_rate, detail = "coalesce(__kam_fx_rates > 0, false)", "''"
        joins.append(f"LEFT JOIN {lookups.rates} AS _fx ON _fx.currency = __kam_c.{cur}")
        looked_up += ["_fx.first_rate_date AS __kam_fx_first", "_fx.rates AS __kam_fx_rates"]
        rate_problem = (
            f"CASE WHEN len(__kam_p) = 0 AND {cur} IS NOT NULL AND {cur} <> {reporting} "
            f"AND NOT {has_rate} THEN 'no exchange rate ' || {cur} || ' -> ' || {reporting} "
            f"|| {detail} END"
        )
    record = ", ".join(f"{quote_literal(src)}: {quote_ident(src)}" for src in raw.columns.values())
    values = ", ".join(
        f"CAST({_value(c.name)} AS {c.duckdb_type}) AS {quote_ident(c.name)}"
        for c in contract.columns
    )
    con.execute(
        f"""
        COPY (
        SELECT CAST({int(file_id)} AS INTEGER) AS _file_id, CAST(_row AS BIGINT) AS _source_row,
               {values},
               CASE WHEN __kam_rp IS NULL THEN __kam_p ELSE list_append(__kam_p, __kam_rp) END
                   AS _problems,
               CASE WHEN len(__kam_cp) > 0 THEN CAST(to_json({{{record}}}) AS VARCHAR) END
                   AS _raw_record
        FROM (
            SELECT *, {rate_problem} AS __kam_rp
            FROM (
                SELECT *, list_concat(__kam_cp, list_filter(
                    [{", ".join(ref_problems) or "NULL"}]::VARCHAR[], lambda x: x IS NOT NULL
                )) AS __kam_p
                FROM (
                    SELECT {", ".join(["__kam_c.*", *looked_up])}
                    FROM (
                        SELECT *, list_filter(
                            [{", ".join(problems) or "NULL"}]::VARCHAR[], lambda x: x IS NOT NULL
                        ) AS __kam_cp
                        FROM (
                            SELECT *, {", ".join(typed)}
                            FROM (SELECT *, {", ".join(texts)} FROM ({raw.relation}))
                        )
                    ) AS __kam_c
                    {" ".join(joins)}
                )
            )
        )
        ) TO {quote_literal(str(part))} (FORMAT parquet)
        """
    )


def _value(column: str) -> str:
    """Name of a column's typed value inside the parsing query (the raw one keeps its name)."""
    return quote_ident(f"__kam_t_{column}")


def _file_names(files: list[Path]) -> str:
    """SQL list of the file paths: `_file_id` i is element i + 1."""
    return "([" + ", ".join(quote_literal(str(f)) for f in files) + "]::VARCHAR[])"


def _stop_on_unknown_cost_categories(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, files: list[Path]
) -> None:
    """A cost category outside the taxonomy is not a bad row but a taxonomy mismatch: the cost
    would silently be missing from cost-to-serve. It stops the refresh instead of quarantining."""
    if not any(c.type == "cost_category" for c in contract.columns):
        return
    rows = con.execute(
        f"""
        SELECT {_file_names(files)}[_file_id + 1] AS _source_file, _source_row, p,
               count(*) OVER () AS n
        FROM _parsed, unnest(_problems) t(p)
        WHERE starts_with(p, 'unknown cost category in ')
        ORDER BY _source_file, _source_row LIMIT 5
        """
    ).fetchall()
    if rows:
        listed = "\n  ".join(f"{f} row {r}: {p}" for f, r, p, _ in rows)
        more = f"\n  ({rows[0][3]} rows in all)" if rows[0][3] > len(rows) else ""
        raise IngestError(
            f"{contract.name}: cost categories not in the taxonomy "
            f"(dbt_project/seeds/cost_categories.csv):\n  {listed}{more}"
        )


def _stop_on_unmapped_category_values(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, files: list[Path]
) -> None:
    """A value of the declared category column that the map does not know would drop a cost:
    it stops the refresh, naming file, row and value (like a category outside the taxonomy).

    Rows count whose own columns are fine (`_raw_record` is kept exactly for rows with column
    problems and for malformed lines), whatever the reference and rate rules said about them.
    """
    rule = contract.cost.category if contract.cost else None
    if rule is None or isinstance(rule, str) or rule.map is None:
        return
    col = quote_ident(rule.column)
    known = ", ".join(quote_literal(k) for k in rule.map) or "NULL"
    rows = con.execute(
        f"""
        SELECT {_file_names(files)}[_file_id + 1] AS _source_file, _source_row, {col},
               count(*) OVER () AS n
        FROM _parsed
        WHERE _raw_record IS NULL AND {col} IS NOT NULL AND {col} NOT IN ({known})
        ORDER BY _source_file, _source_row LIMIT 5
        """
    ).fetchall()
    if rows:
        listed = "\n  ".join(f"{f} row {r}: {v!r}" for f, r, v, _ in rows)
        more = f"\n  ({rows[0][3]} rows in all)" if rows[0][3] > len(rows) else ""
        raise IngestError(
            f"{contract.name}: values of {rule.column} not in cost.category.map of "
            f"sources/{contract.name}.yml (known: {', '.join(rule.map)}):\n  {listed}{more}"
        )


def _mark_duplicates(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, files: list[Path]
) -> int:
    """First delivery of a key wins; an identical re-export is counted as a duplicate, a
    different row under the same key is a conflict. Both are quarantined, never double-booked.

    Only rows whose key hash occurs more than once among the clean rows can be duplicates, so
    the exact window (by file name and row) runs on those few rows, not on all of them. Returns
    the number of rows in `_dupes` (file, row, first file, first row, identical).
    """
    key = ", ".join(quote_ident(k) for k in contract.unique_key)
    content = ", ".join(quote_ident(c.name) for c in contract.columns)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dupes AS
        WITH repeated AS (
            SELECT hash({key}) AS _key_hash
            FROM _parsed WHERE len(_problems) = 0
            GROUP BY ALL HAVING count(*) > 1
        ), candidates AS (
            SELECT _file_id, {_file_names(files)}[_file_id + 1] AS _source_file,
                   _source_row, {content}
            FROM _parsed
            WHERE len(_problems) = 0 AND hash({key}) IN (SELECT _key_hash FROM repeated)
        )
        SELECT _file_id, _source_row, first_file, first_row,
               hash({content}) = first_hash AS identical
        FROM (
            SELECT _file_id, _source_row, {content},
                   first_value(_source_file) OVER w AS first_file,
                   first_value(_source_row) OVER w AS first_row,
                   first_value(hash({content})) OVER w AS first_hash,
                   row_number() OVER w AS n
            FROM candidates
            WINDOW w AS (PARTITION BY {key} ORDER BY _source_file, _source_row)
        ) WHERE n > 1
        """
    )
    return con.execute("SELECT count(*) FROM _dupes").fetchone()[0]


def _write_outputs(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    settings: Settings,
    result: IngestResult,
    files: list[Path],
    duplicates: int,
) -> None:
    # `_final`: every row with all its reasons, the duplicate rule's included.
    if duplicates:
        con.execute(
            """
            CREATE OR REPLACE TEMP VIEW _final AS
            SELECT p.* REPLACE (
                CASE WHEN d._file_id IS NULL THEN p._problems ELSE list_append(p._problems,
                    CASE WHEN d.identical THEN 'duplicate re-export of '
                         ELSE 'conflicting duplicate key ' || 'first delivered in ' END
                    || d.first_file || ' row ' || d.first_row) END AS _problems)
            FROM _parsed p LEFT JOIN _dupes d USING (_file_id, _source_row)
            """
        )
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW _final AS SELECT * FROM _parsed")
    result.raw_rows = con.execute("SELECT count(*) FROM _parsed").fetchone()[0]
    # Only the duplicate rule writes this reason, and every row in _dupes got exactly one.
    result.duplicate_rows = con.execute("SELECT count(*) FROM _dupes WHERE identical").fetchone()[0]
    columns = ", ".join(quote_ident(c.name) for c in contract.columns)
    source_file = f"{_file_names(files)}[_file_id + 1]"
    accepted = settings.ingested_dir / f"{contract.name}.parquet"
    quarantine = settings.quarantine_dir / f"{contract.name}.parquet"
    # Accepted rows in delivery order (file, then row), as the files were read.
    clean = f"SELECT {columns}, {source_file} AS _source_file, _source_row FROM _parsed "
    clean += "WHERE len(_problems) = 0"
    if duplicates:
        clean += (
            " AND (_file_id, _source_row) NOT IN (SELECT (_file_id, _source_row) FROM _dupes)"
            " ORDER BY _file_id, _source_row"
        )
    _copy_atomic(con, clean, accepted)
    _copy_atomic(
        con,
        f"""
        SELECT {quote_literal(contract.name)} AS source, {source_file} AS source_file,
               _source_row AS source_row, array_to_string(_problems, '; ') AS reason,
               COALESCE(_raw_record, CAST(to_json({{{_record_of(contract)}}}) AS VARCHAR))
                   AS raw_record
        FROM _final WHERE len(_problems) > 0
        ORDER BY source_file, source_row
        """,
        quarantine,
    )
    result.accepted_rows = _count(con, accepted)
    result.quarantined_rows = _count(con, quarantine)
    result.reasons = dict(
        con.execute(
            "SELECT trim(regexp_replace(p, '(: |''|\"|/| on or before ).*', '')), count(*) "
            "FROM _final, "
            "unnest(_problems) t(p) GROUP BY 1 ORDER BY 2 DESC LIMIT 20"
        ).fetchall()
    )


def _record_of(contract: SourceContract) -> str:
    return ", ".join(f"{quote_literal(c.name)}: {quote_ident(c.name)}" for c in contract.columns)


def _copy_atomic(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({query}) TO {quote_literal(str(tmp))} (FORMAT parquet)")
    os.replace(tmp, target)


def _count(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    return con.execute(f"SELECT count(*) FROM read_parquet({quote_literal(str(path))})").fetchone()[
        0
    ]
