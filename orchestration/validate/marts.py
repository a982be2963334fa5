"""What each GX suite is validated on: small marts row by row, long tables as compact frames.

- A month-partitioned mart (cost_lines, cost_to_serve; `partitioned_marts()`) is validated
  compactly (reduction.py) on the months of the run's scope only: the other months were
  validated when they were published and are carried over unchanged.
- Every other mart is validated whole: row by row as a DataFrame, or compactly if it has more
  than COMPACT_ABOVE_ROWS rows (or its suite has meta.reduction).
- A declared cost source (sources/<name>.yml) is validated compactly on its accepted rows.
- A mart whose suite names optional sources in meta.empty_if_no_rows_in must have exactly 0 rows
  in a run where one of them has no accepted row (sources/suite_refs.py); the summary says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from orchestration.duck import connect, quote_ident, quote_literal
from orchestration.scope.run_scope import RunScope, read_scope
from orchestration.settings import Settings
from orchestration.sources.suite_refs import allow_empty, sources_needed
from orchestration.validate.gx import (
    ValidationSummary,
    build_docs,
    failure,
    load_suite_dict,
    plain,
    read_mart,
    row_level_summary,
    run_suite,
)
from orchestration.validate.reduction import ROWS, TABLE_ROWS, Reduction, reduce_suite

SAMPLE_ROWS = 5
GROUPS_SHOWN = 10
# A mart above this many rows is validated compactly too (e.g. key_account_value at 10M invoice
# lines: 160,000 account-months); below, GX reads it whole as a DataFrame.
COMPACT_ABOVE_ROWS = 50_000
# DuckDB memory of a validation: the long marts reduce to a few hundred rows, but reducing
# cost_lines prices the view again and not all of its operators spill: at 10M invoice lines
# 256 MB ran out of memory (384 MB: 11.7 s, 1 GB: 11.0 s), at 50M 512 MB ran out. Validation runs
# after dbt has exited, so it may use the same budget as dbt (config/warehouse.yml).
VALIDATION_MEMORY_MB = 1024
_UNITS = {"KB": 1e-3, "MB": 1, "GB": 1e3, "TB": 1e6, "KIB": 2**-10, "MIB": 1, "GIB": 2**10}


def validation_connection(settings: Settings, database=":memory:", read_only: bool = False):
    """A DuckDB connection with the settings' limits and at most VALIDATION_MEMORY_MB."""
    con = connect(settings, database, read_only=read_only)
    con.execute(f"SET memory_limit = '{_capped(settings.memory_limit)}MB'")
    return con


def _capped(limit: str) -> int:
    text = limit.strip().upper().replace(" ", "")
    for unit, mb in sorted(_UNITS.items(), key=lambda u: -len(u[0])):
        if text.endswith(unit):
            try:
                return max(1, min(VALIDATION_MEMORY_MB, int(float(text[: -len(unit)]) * mb)))
            except ValueError:
                break
    return VALIDATION_MEMORY_MB


def check_marts(
    settings: Settings, run_name: str, tables: list[str], partitioned: dict[str, str]
) -> tuple[list[ValidationSummary], float]:
    """Every mart's suite, then Data Docs once (complete before the publication copies them,
    also when a suite failed): the summaries and the seconds Data Docs took."""
    summaries = list(validate_marts(settings, run_name, tables, partitioned))
    started = time.monotonic()
    build_docs(settings, run_name)
    return summaries, time.monotonic() - started


def check_sources(
    settings: Settings, run_name: str, specs: dict[str, dict[str, Any]]
) -> list[ValidationSummary]:
    """Every declared source's suite; Data Docs only if one failed (no mart step follows)."""
    summaries = [validate_declared_source(settings, n, s, run_name) for n, s in specs.items()]
    if not all(s.success for s in summaries):
        build_docs(settings, run_name)
    return summaries


def validate_marts(
    settings: Settings,
    run_name: str,
    tables: Iterable[str],
    partitioned: dict[str, str] | None = None,
) -> Iterator[ValidationSummary]:
    """Validate each mart's suite on the working DuckDB (read only): the small marts here, one
    after the other, while a thread has DuckDB reduce the compact ones; summaries in the order
    of `tables`. `partitioned`: partitioned_marts() (mart -> month column), from dbt if None."""
    if partitioned is None:
        from orchestration.transform.manifest import partitioned_marts

        partitioned = partitioned_marts()
    scope = read_scope(settings)
    specs = {t: load_suite_dict(t) for t in tables}
    empty = sources_without_rows(
        settings, {s for spec in specs.values() for s in sources_needed(spec)}
    )
    notes = {}
    for t, spec in specs.items():
        specs[t], notes[t] = allow_empty(spec, empty)
    con = validation_connection(settings, settings.warehouse_db, read_only=True)
    background = con.cursor()  # a second connection to the same database, for the other thread
    try:
        plans = {t: _plan(con, t, spec, partitioned.get(t), scope) for t, spec in specs.items()}
        # DuckDB reduces the compact marts in a thread (it releases the GIL while it runs),
        # while GX validates the small marts here.
        with ThreadPoolExecutor(1, thread_name_prefix="compact-frames") as pool:
            frames = {
                t: pool.submit(compact_frame, background, red)
                for t, (_, red) in plans.items()
                if red is not None
            }
            summaries = {
                t: validate_rows(con, settings, t, spec, run_name)
                for t, (spec, red) in plans.items()
                if red is None
            }
            for t, future in frames.items():
                red = plans[t][1]
                validated = "all rows" if red.where == "true" else scope_text(scope)
                frame, seconds = future.result()
                summaries[t] = decide_compact(con, settings, red, frame, run_name, validated)
                summaries[t].seconds["reduce"] = round(seconds, 3)
        yield from (replace(summaries[t], note=notes[t]) for t in plans)
    finally:
        background.close()
        con.close()


def sources_without_rows(settings: Settings, names: set[str]) -> set[str]:
    """Which of the sources `names` have no accepted row (or were never ingested)."""
    empty = set()
    con = validation_connection(settings)
    try:
        for name in sorted(names):
            glob = quote_literal(settings.accepted_glob(name))
            ingested = any(settings.accepted_dir(name).glob("*.parquet"))
            if (
                not ingested
                or not con.execute(f"SELECT count(*) FROM read_parquet({glob})").fetchone()[0]
            ):
                empty.add(name)
    finally:
        con.close()
    return empty


def _plan(con, table: str, spec: dict[str, Any], partition_column: str | None, scope: RunScope):
    """(suite, its Reduction) for a mart validated compactly, (suite, None) for row by row."""
    compact = partition_column is not None or "reduction" in spec.get("meta", {})
    if not compact:  # (never count a partitioned mart: cost_lines is a view, priced when read)
        rows = con.execute(f"SELECT count(*) FROM main.{quote_ident(table)}").fetchone()[0]
        if rows <= COMPACT_ABOVE_ROWS:
            return spec, None
    return spec, mart_reduction(table, spec, partition_column, scope)


def mart_reduction(
    table: str, spec: dict[str, Any], partition_column: str | None, scope: RunScope
) -> Reduction:
    """The compact form of a mart's suite: only the scope's months of a partitioned mart."""
    red = spec.get("meta", {}).get("reduction", {})
    return reduce_suite(
        spec,
        table=table,
        source=f"main.{quote_ident(table)}",
        where=scope.sql_filter(quote_ident(partition_column)) if partition_column else "true",
        group_by=tuple(red.get("group_by", [partition_column] if partition_column else [])),
        sample_columns=tuple(red.get("sample_columns", key_columns(spec))),
        scope_filter=scope.sql_filter,
        count_column=partition_column,
    )


def key_columns(spec: dict[str, Any]) -> list[str]:
    """The columns of the suite's first uniqueness expectation: what names a row."""
    for e in spec.get("expectations", []):
        kwargs = e.get("kwargs", {})
        if e.get("type") == "expect_compound_columns_to_be_unique":
            return list(kwargs["column_list"])
        if e.get("type") == "expect_column_values_to_be_unique":
            return [kwargs["column"]]
    return []


def validate_rows(
    con, settings: Settings, table: str, spec: dict[str, Any], run_name: str
) -> ValidationSummary:
    """The suite on the whole mart as a DataFrame (plus its derived columns)."""
    started = time.monotonic()
    meta = spec.get("meta", {})
    df = read_mart(con, table, meta)
    read = time.monotonic()
    result = run_suite(settings, spec, df, run_name)
    summary = row_level_summary(table, result, len(df))
    return _timed(summary, read=read - started, gx=time.monotonic() - read)


def validate_compact(
    con, settings: Settings, reduction: Reduction, run_name: str, validated: str = "all rows"
) -> ValidationSummary:
    """The suite decided on the compact frame; a failure carries counts, groups and sample rows."""
    frame, seconds = compact_frame(con, reduction)
    summary = decide_compact(con, settings, reduction, frame, run_name, validated)
    summary.seconds["reduce"] = round(seconds, 3)
    return summary


def compact_frame(con, reduction: Reduction):
    """(the compact frame as a DataFrame, seconds DuckDB took)."""
    import pandas as pd

    started = time.monotonic()
    rows_sql, per_key = reduction.frame_sqls()
    frame = con.execute(rows_sql).df()
    for column, sql in per_key:  # a few hundred rows each, matched on the groups (NULL = NULL)
        duplicated = con.execute(sql).df()
        if reduction.group_by:
            frame = frame.merge(duplicated, how="left", on=list(reduction.group_by))
        else:
            frame[column] = duplicated[column].iloc[0] if len(duplicated) else 0
        frame[column] = frame[column].fillna(0).astype("int64")
    if frame.empty:  # nothing to validate: one group of 0 rows (a row count minimum then fails)
        zero = {ROWS: 0} | {r.column: 0 for r in reduction.rules}
        if reduction.table_rows_sql:  # unless the other months hold rows
            zero[TABLE_ROWS] = con.execute(reduction.table_rows_sql).fetchone()[0]
        frame = pd.DataFrame([dict.fromkeys(reduction.group_by) | zero])
    return frame, time.monotonic() - started


def decide_compact(
    con, settings: Settings, reduction: Reduction, frame, run_name: str, validated: str
) -> ValidationSummary:
    started = time.monotonic()
    result = run_suite(settings, reduction.gx_suite(), frame, run_name, _format(reduction))
    stats = result.statistics
    summary = ValidationSummary(
        table=reduction.table,
        success=bool(result.success),
        evaluated=int(stats["evaluated_expectations"]),
        successful=int(stats["successful_expectations"]),
        failures=[
            compact_failure(con, reduction, frame, r) for r in result.results if not r.success
        ],
        rows=int(frame[ROWS].sum()),
        validated=validated,
        compact_rows=len(frame),
    )
    return _timed(summary, gx=time.monotonic() - started)


def compact_failure(con, reduction: Reduction, frame, r) -> dict[str, Any]:
    """Which row-level expectation failed, on how many rows, in which groups, and a few rows."""
    out = failure(r)
    column = r.expectation_config.kwargs.get("column")
    row_level = (r.expectation_config.meta or {}).get("row_level", {})
    kwargs = row_level.get("kwargs", {})
    out["expectation"] = row_level.get("type", out["expectation"])
    out["column"] = kwargs.get("column") or kwargs.get("column_list")
    if column in (ROWS, TABLE_ROWS):
        observed = frame[ROWS].sum() if column == ROWS else frame[TABLE_ROWS].max()
        out |= {"unexpected_count": None, "observed_value": int(observed), "sample": []}
        return out
    rule = next(x for x in reduction.rules if x.column == column)
    broken = frame[frame[column] > 0]
    out["unexpected_count"] = int(broken[column].sum())
    out["groups"] = plain(
        [
            {**{g: row[g] for g in reduction.group_by}, "rows": row[column]}
            for row in broken.head(GROUPS_SHOWN).to_dict("records")
        ]
    )
    cursor = con.execute(reduction.sample_sql(rule, SAMPLE_ROWS))
    names = [d[0] for d in cursor.description]
    # exact values (decimals as text), not the DataFrame's floats
    out["sample"] = plain([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
    return out


def validate_declared_source(
    settings: Settings, name: str, spec: dict[str, Any], run_name: str
) -> ValidationSummary:
    """A declared source's suite (orchestration/costing/sources.py gx_suite) on its accepted
    rows (the ingested Parquet), compactly: one GROUP BY in DuckDB, a one-row frame for GX."""
    red = spec.get("meta", {}).get("reduction", {})
    reduction = reduce_suite(
        spec,
        table=name,
        source=f"read_parquet({quote_literal(settings.accepted_glob(name))})",
        group_by=tuple(red.get("group_by", ())),
        sample_columns=tuple(red.get("sample_columns", ())),
    )
    con = validation_connection(settings)
    try:
        return validate_compact(con, settings, reduction, run_name)
    finally:
        con.close()


def scope_text(scope: RunScope) -> str:
    if scope.full:
        return "all rows"
    return f"months {scope.describe()}" if scope.months else "no months"


def _format(reduction: Reduction) -> str | dict[str, Any]:
    # Failing groups are listed by their keys in Data Docs, not as bare counts.
    if not reduction.group_by:
        return "SUMMARY"
    return {"result_format": "SUMMARY", "unexpected_index_column_names": list(reduction.group_by)}


def _timed(summary: ValidationSummary, **seconds: float) -> ValidationSummary:
    summary.seconds.update({k: round(v, 3) for k, v in seconds.items()})
    return summary
