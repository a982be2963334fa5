"""Great Expectations (GX Core 1.x) validation of the marts, from suite files in expectations/.

GX's SQL data source over duckdb_engine returns empty metric results, so each mart is read
from the working DuckDB into a DataFrame (marts are small: account x month) and validated
in memory. A suite's meta.derived_columns are computed in DuckDB first, with exact decimals,
so identities such as net_revenue = gross_revenue - revenue_deductions are checked as "gap = 0".
A suite over a long table (cost_lines: one row per booking) names the few columns it needs in
meta.columns; everything else it checks is a compact derived column computed in DuckDB.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from orchestration.duck import connect, quote_ident
from orchestration.settings import EXPECTATIONS_DIR, Settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


class SuiteError(ValueError):
    """A suite file is invalid (unknown expectation type, bad JSON)."""


@dataclass(frozen=True)
class ValidationSummary:
    table: str
    success: bool
    evaluated: int
    successful: int
    failures: list[dict[str, Any]]
    rows: int


def suite_path(table: str) -> Path:
    return EXPECTATIONS_DIR / f"{table}.json"


def suite_tables() -> list[str]:
    return sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


def load_suite_dict(table: str) -> dict[str, Any]:
    path = suite_path(table)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise SuiteError(f"{path}: {e}") from None


_CONTEXT_LOCK = threading.Lock()


def warm_up(settings: Settings) -> threading.Thread:
    """Import GX and build its context in a background thread, ahead of the first validation.

    Importing GX takes about 3 s of CPU in one thread. The refresh starts this when the dbt
    step starts: this process then only waits for the dbt subprocess, so the import runs on an
    otherwise idle core instead of delaying the first GX check. Validation waits for the
    context behind the same lock; if the warm-up fails, validation builds it again and raises.
    """
    docs_dir = str(settings.data_docs_dir)
    thread = threading.Thread(target=_warm_up, args=(docs_dir,), name="gx-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up(docs_dir: str) -> None:
    with contextlib.suppress(Exception):
        context(docs_dir)


def context(docs_dir: str):
    """The GX context of this process (one per data docs folder), built once."""
    with _CONTEXT_LOCK:
        return _gx_context(docs_dir)


@cache
def _gx_context(docs_dir: str):
    import great_expectations as gx  # imported lazily: ~3-5 s, only when validating

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False}
    ctx.update_data_docs_site(
        "local_site",
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": docs_dir,
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    ctx.data_sources.add_pandas("warehouse")
    return ctx


def _validation_definition(ctx, table: str, spec: dict[str, Any] | None = None):
    import great_expectations as gx

    existing = {vd.name: vd for vd in ctx.validation_definitions.all()}
    if table in existing:
        return existing[table]
    spec = json.loads(json.dumps(spec)) if spec is not None else load_suite_dict(table)
    spec.pop("id", None)
    for e in spec.get("expectations", []):
        e.pop("id", None)
    suite = gx.ExpectationSuite(**spec)
    # GX only logs unknown expectation types and drops them; fail loudly instead.
    if len(suite.expectations) != len(spec.get("expectations", [])):
        raise SuiteError(f"{suite_path(table)}: an expectation has an unknown type or bad kwargs")
    suite = ctx.suites.add(suite)
    batch = ctx.data_sources.get("warehouse").add_dataframe_asset(table)
    definition = batch.add_batch_definition_whole_dataframe("whole")
    return ctx.validation_definitions.add(
        gx.ValidationDefinition(name=table, data=definition, suite=suite)
    )


def read_mart(
    settings: Settings,
    table: str,
    derived: dict[str, str],
    columns: list[str] | None = None,
):
    """The mart (or only `columns` of it) plus the suite's derived columns, as a DataFrame
    (DECIMAL -> float64). A suite over a long table lists the few columns it validates in
    meta.columns and computes the rest as compact derived columns in DuckDB, so that the
    DataFrame stays small."""
    selected = ", ".join(quote_ident(c) for c in columns) if columns is not None else "*"
    extra = [f"({expr}) AS {quote_ident(name)}" for name, expr in derived.items()]
    select = ", ".join(([selected] if selected else []) + extra)
    con = connect(settings, settings.warehouse_db, read_only=True)
    try:
        return con.execute(f"SELECT {select} FROM main.{quote_ident(table)}").df()
    finally:
        con.close()


def validate_table(settings: Settings, table: str, run_name: str) -> ValidationSummary:

    spec = load_suite_dict(table)
    meta = spec.get("meta", {})
    df = read_mart(settings, table, meta.get("derived_columns", {}), meta.get("columns"))
    return validate_frame(settings, table, df, run_name)


def validate_source(settings: Settings, name: str, spec: dict[str, Any], run_name: str):
    """Validate the accepted rows of a declared source (its ingested Parquet) with `spec`."""
    from orchestration.duck import quote_literal

    con = connect(settings)
    try:
        df = con.execute(
            f"SELECT * FROM read_parquet({quote_literal(settings.accepted_glob(name))})"
        ).df()
    finally:
        con.close()
    return validate_frame(settings, spec["name"], df, run_name, spec)


def validate_frame(
    settings: Settings, table: str, df, run_name: str, spec: dict[str, Any] | None = None
) -> ValidationSummary:
    from great_expectations.core.run_identifier import RunIdentifier

    ctx = context(str(settings.data_docs_dir))
    result = _validation_definition(ctx, table, spec).run(
        batch_parameters={"dataframe": df},
        result_format="SUMMARY",
        run_id=RunIdentifier(run_name=run_name),
    )
    ctx.build_data_docs()
    stats = result.statistics
    return ValidationSummary(
        table=table,
        success=bool(result.success),
        evaluated=int(stats["evaluated_expectations"]),
        successful=int(stats["successful_expectations"]),
        failures=[_failure(r) for r in result.results if not r.success],
        rows=len(df),
    )


def _failure(r) -> dict[str, Any]:
    cfg, res, exc = r.expectation_config, r.result or {}, r.exception_info or {}
    return {
        "expectation": cfg.type,
        "column": cfg.kwargs.get("column") or cfg.kwargs.get("column_list"),
        "unexpected_count": res.get("unexpected_count"),
        "sample": _plain((res.get("partial_unexpected_list") or [])[:5]),
        "observed_value": _plain(res.get("observed_value")),
        "exception": exc.get("exception_message") if exc.get("raised_exception") else None,
    }


def _plain(v: Any) -> Any:
    """JSON-safe values for metadata: NaN -> None, numpy scalars -> Python."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v if isinstance(v, str | int | float | bool | type(None)) else str(v)
