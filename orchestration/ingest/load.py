"""Ingest one raw source: parse every file, apply the declared rules, split accepted/quarantined.

Output (written atomically, so a failed ingest leaves the previous result in place):
- `<ingested_dir>/<source>.parquet`: accepted rows, typed, with `_source_file` and `_source_row`
- `<quarantine_dir>/<source>.parquet`: rejected rows with file, row, reason and the raw record
Invariant (a blocking asset check): raw rows = accepted + quarantined.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.duck import connect, quote_ident, quote_literal
from orchestration.ingest.contracts import EXCHANGE_RATES, SourceContract
from orchestration.ingest.parsing import column_sql
from orchestration.ingest.readers import IngestError, discover_source, load_raw
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


def ingest_source(contract: SourceContract, settings: Settings) -> IngestResult:
    settings.ensure_dirs()
    files = discover_source(settings.raw_dir, contract.folder, contract.files, contract.file_type)
    con = connect(settings)
    try:
        result = IngestResult(contract.name, [str(f) for f in files])
        _create_parsed_table(con, contract)
        for path in files:
            _parse_file(con, contract, path)
        _stop_on_unknown_cost_categories(con, contract)
        _stop_on_unmapped_category_values(con, contract)
        _apply_row_rules(con, contract, settings)
        _write_outputs(con, contract, settings, result)
        return result
    finally:
        con.close()


def _create_parsed_table(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    cols = ", ".join(f"{quote_ident(c.name)} {c.duckdb_type}" for c in contract.columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _parsed (_source_file VARCHAR, _source_row BIGINT, {cols}, "
        "_problems VARCHAR[], _raw_record VARCHAR)"
    )


def _parse_file(con: duckdb.DuckDBPyConnection, contract: SourceContract, path: Path) -> None:
    delimiter = contract.format.delimiter if contract.format else ";"
    raw = load_raw(con, path, "_raw", delimiter)
    missing = [c.name for c in contract.columns if c.name not in raw.columns]
    required_missing = [c for c in missing if contract.column(c).required]
    if required_missing:
        raise IngestError(
            f"{path}: missing column(s) {', '.join(required_missing)} for source "
            f"'{contract.name}' (found: {', '.join(raw.columns.values())})"
        )
    typed, problems = [], []
    for col in contract.columns:
        expr, probs = column_sql(col, raw.columns.get(col.name), raw.fmt)
        typed.append(f"{expr} AS {quote_ident(col.name)}")
        problems += probs
    record = ", ".join(f"{quote_literal(src)}: {quote_ident(src)}" for src in raw.columns.values())
    con.execute(
        f"""
        INSERT INTO _parsed
        SELECT * EXCLUDE (_p, _rec), _p,
               CASE WHEN len(_p) > 0 THEN _rec END
        FROM (
            SELECT {quote_literal(str(path))} AS _source_file, _row AS _source_row,
                   {", ".join(typed)},
                   list_filter([{", ".join(problems) or "NULL"}]::VARCHAR[], lambda x: x IS NOT NULL) AS _p,
                   CAST(to_json({{{record}}}) AS VARCHAR) AS _rec
            FROM _raw
        )
        """
    )
    for row, reason, line in raw.rejects:
        con.execute(
            "INSERT INTO _parsed (_source_file, _source_row, _problems, _raw_record) "
            "VALUES (?, ?, [?], ?)",
            [str(path), row, reason, line],
        )


def _stop_on_unknown_cost_categories(
    con: duckdb.DuckDBPyConnection, contract: SourceContract
) -> None:
    """A cost category outside the taxonomy is not a bad row but a taxonomy mismatch: the cost
    would silently be missing from cost-to-serve. It stops the refresh instead of quarantining."""
    if not any(c.type == "cost_category" for c in contract.columns):
        return
    rows = con.execute(
        """
        SELECT _source_file, _source_row, p, count(*) OVER () AS n
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
    con: duckdb.DuckDBPyConnection, contract: SourceContract
) -> None:
    """A value of the declared category column that the map does not know would drop a cost:
    it stops the refresh, naming file, row and value (like a category outside the taxonomy)."""
    rule = contract.cost.category if contract.cost else None
    if rule is None or isinstance(rule, str) or rule.map is None:
        return
    col = quote_ident(rule.column)
    known = ", ".join(quote_literal(k) for k in rule.map) or "NULL"
    rows = con.execute(
        f"""
        SELECT _source_file, _source_row, {col}, count(*) OVER () AS n FROM _parsed
        WHERE len(_problems) = 0 AND {col} IS NOT NULL AND {col} NOT IN ({known})
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


def _apply_row_rules(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, settings: Settings
) -> None:
    """Rules that need other sources or other rows: references, exchange rates, duplicates."""
    for ref in contract.references:
        target = settings.ingested_dir / f"{ref.source}.parquet"
        col = quote_ident(ref.column)
        known = " UNION ".join(
            f"SELECT {quote_ident(c)} FROM read_parquet({quote_literal(str(target))}) "
            f"WHERE {quote_ident(c)} IS NOT NULL"
            for c in ref.target_columns
        )
        con.execute(
            f"""
            UPDATE _parsed SET _problems = list_append(_problems,
                'unknown {ref.column} ''' || {col} || ''' (not an accepted row of {ref.source})')
            WHERE {col} IS NOT NULL AND {col} NOT IN ({known})
            """
        )
    if contract.currency and contract.name != EXCHANGE_RATES:
        _check_rates(con, contract, settings)
    _mark_duplicates(con, contract)


def _check_rates(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, settings: Settings
) -> None:
    rule = contract.currency
    assert rule is not None
    rates = quote_literal(str(settings.ingested_dir / f"{EXCHANGE_RATES}.parquet"))
    cur, reporting = quote_ident(rule.column), quote_literal(settings.reporting_currency)
    if rule.date_column:
        day = quote_ident(rule.date_column)
        condition = f"r.rate_date <= p.{day}"
        detail = f"' on or before ' || strftime(p.{day}, '%d.%m.%Y')"
    else:
        condition, detail = "TRUE", "''"
    con.execute(
        f"""
        UPDATE _parsed p SET _problems = list_append(_problems,
            'no exchange rate ' || p.{cur} || ' -> ' || {reporting} || {detail})
        WHERE p.{cur} IS NOT NULL AND p.{cur} <> {reporting}
          AND len(p._problems) = 0
          AND NOT EXISTS (
            SELECT 1 FROM read_parquet({rates}) r
            WHERE r.from_currency = p.{cur} AND r.to_currency = {reporting} AND {condition})
        """
    )


def _mark_duplicates(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    """First delivery of a key wins; an identical re-export is counted as a duplicate, a
    different row under the same key is a conflict. Both are quarantined, never double-booked."""
    key = ", ".join(quote_ident(k) for k in contract.unique_key)
    content = ", ".join(quote_ident(c.name) for c in contract.columns)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dupes AS
        SELECT _source_file, _source_row, first_file, first_row,
               hash({content}) = first_hash AS identical
        FROM (
            SELECT _source_file, _source_row, {content},
                   first_value(_source_file) OVER w AS first_file,
                   first_value(_source_row) OVER w AS first_row,
                   first_value(hash({content})) OVER w AS first_hash,
                   row_number() OVER w AS n
            FROM _parsed WHERE len(_problems) = 0
            WINDOW w AS (PARTITION BY {key} ORDER BY _source_file, _source_row)
        ) WHERE n > 1
        """
    )
    con.execute(
        """
        UPDATE _parsed p SET _problems = list_append(p._problems,
            CASE WHEN d.identical THEN 'duplicate re-export of ' ELSE 'conflicting duplicate key '
                 || 'first delivered in ' END
            || d.first_file || ' row ' || d.first_row)
        FROM _dupes d
        WHERE p._source_file = d._source_file AND p._source_row = d._source_row
        """
    )


def _write_outputs(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    settings: Settings,
    result: IngestResult,
) -> None:
    result.raw_rows = con.execute("SELECT count(*) FROM _parsed").fetchone()[0]
    result.duplicate_rows = con.execute(
        "SELECT count(*) FROM _parsed WHERE list_contains(list_transform(_problems, "
        "lambda x: starts_with(x, 'duplicate re-export')), true)"
    ).fetchone()[0]
    columns = ", ".join(quote_ident(c.name) for c in contract.columns)
    accepted = settings.ingested_dir / f"{contract.name}.parquet"
    quarantine = settings.quarantine_dir / f"{contract.name}.parquet"
    _copy_atomic(
        con,
        f"SELECT {columns}, _source_file, _source_row FROM _parsed WHERE len(_problems) = 0",
        accepted,
    )
    _copy_atomic(
        con,
        f"""
        SELECT {quote_literal(contract.name)} AS source, _source_file AS source_file,
               _source_row AS source_row, array_to_string(_problems, '; ') AS reason,
               COALESCE(_raw_record, CAST(to_json({{{_record_of(contract)}}}) AS VARCHAR))
                   AS raw_record
        FROM _parsed WHERE len(_problems) > 0
        ORDER BY source_file, source_row
        """,
        quarantine,
    )
    result.accepted_rows = _count(con, accepted)
    result.quarantined_rows = _count(con, quarantine)
    result.reasons = dict(
        con.execute(
            "SELECT trim(regexp_replace(p, '(: |''|\"|/| on or before ).*', '')), count(*) "
            "FROM _parsed, "
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
