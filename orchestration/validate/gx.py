"""The Great Expectations engine (GX Core 1.x): suite files in expectations/, one context per run.

GX's SQL data source over duckdb_engine returns empty metric results, so GX validates
DataFrames: a small mart as it is (read_mart: its rows plus the suite's meta.derived_columns,
computed in DuckDB with exact decimals), a long one as its compact frame (see reduction.py).
Data Docs are written once per run (build_docs), after the last suite, not after each one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from orchestration.duck import quote_ident
from orchestration.settings import EXPECTATIONS_DIR, Settings
from orchestration.sources.suite_refs import SuiteRefError, resolve_refs

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
    rows: int  # rows the suite was decided on (all of them, also for a compact validation)
    validated: str = "all rows"  # which rows: "all rows" or the run's months
    compact_rows: int | None = None  # rows of the compact frame GX evaluated (None: row level)
    seconds: dict[str, float] = field(default_factory=dict)
    note: str | None = None  # why the suite was not applied as written (an empty source)


def suite_path(table: str) -> Path:
    return EXPECTATIONS_DIR / f"{table}.json"


def suite_tables() -> list[str]:
    return sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


def load_suite_dict(table: str) -> dict[str, Any]:
    """The suite with its references to the declarations resolved (sources/suite_refs.py)."""
    path = suite_path(table)
    try:
        return resolve_refs(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, SuiteRefError) as e:
        raise SuiteError(f"{path}: {e}") from None


_LOCK = threading.Lock()
_WARM_UPS: dict[str, threading.Thread] = {}


def warm_up(settings: Settings) -> threading.Thread | None:
    """Import GX in a background thread of this process, ahead of an in-process validation.

    Not during a refresh (the caller checks `helper.active()`): there GX runs in the helper
    process (helper.py), which imported it while the refresh started; a thread here would only
    hold the GIL against Dagster.
    """
    docs_dir = str(settings.data_docs_dir)
    with _LOCK:
        thread = _WARM_UPS.get(docs_dir)
        if thread is None:
            thread = threading.Thread(
                target=_warm_up, args=(docs_dir,), name="gx-warm-up", daemon=True
            )
            _WARM_UPS[docs_dir] = thread
            thread.start()
    return thread


def context_builder(settings: Settings) -> Callable[[], RunContext]:
    """What the GX helper process calls first (picklable): import GX and build the context."""
    return partial(context, str(settings.data_docs_dir))


def _warm_up(docs_dir: str) -> None:
    with contextlib.suppress(Exception):
        context(docs_dir)


@dataclass
class RunContext:
    """The GX context of one run: its stores hold this run's validations only."""

    run_name: str | None
    ctx: Any
    definitions: dict[str, tuple[str, Any]] = field(default_factory=dict)
    # one run time for all of the run's validations: a suite validated again (with details,
    # after it failed) replaces its first result in the store instead of adding a second one
    run_time: datetime = field(default_factory=lambda: datetime.now(UTC))


_CONTEXT_LOCK = threading.Lock()
_CONTEXTS: dict[str, RunContext] = {}


def context(docs_dir: str, run_name: str | None = None) -> RunContext:
    """The context for `run_name` writing Data Docs to `docs_dir`. The one a warm-up built is
    taken by the first run asking; a later run of the same process gets a fresh one."""
    with _CONTEXT_LOCK:
        entry = _CONTEXTS.get(docs_dir)
        if entry is None or entry.run_name not in (None, run_name):
            entry = RunContext(run_name, _new_context(docs_dir))
            _CONTEXTS[docs_dir] = entry
        entry.run_name = entry.run_name or run_name
        return entry


def _new_context(docs_dir: str):
    import great_expectations as gx  # imported lazily: ~3 s, ahead of time by a warm-up

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


def _validation_definition(run: RunContext, name: str, spec: dict[str, Any]):
    """The run's validation definition of `spec`, made once (a changed spec replaces it);
    listing ctx.validation_definitions instead deserialises every one of them each time."""
    import great_expectations as gx

    ctx = run.ctx
    key = json.dumps(spec, sort_keys=True, default=str)
    cached = run.definitions.get(name)
    if cached and cached[0] == key:
        return cached[1]
    if cached:
        ctx.validation_definitions.delete(name)
        ctx.suites.delete(name)
    spec = json.loads(key)
    spec.pop("id", None)
    for e in spec.get("expectations", []):
        e.pop("id", None)
    suite = gx.ExpectationSuite(**spec)
    # GX only logs unknown expectation types and drops them; fail loudly instead.
    if len(suite.expectations) != len(spec.get("expectations", [])):
        raise SuiteError(f"{suite_path(name)}: an expectation has an unknown type or bad kwargs")
    suite = ctx.suites.add(suite)
    source = ctx.data_sources.get("warehouse")
    if name in source.get_asset_names():
        batch = source.get_asset(name).get_batch_definition("whole")
    else:
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    run.definitions[name] = (key, definition)
    return definition


def run_suite(
    settings: Settings,
    spec: dict[str, Any],
    df,
    run_name: str,
    details: str | dict[str, Any] = "SUMMARY",
):
    """GX's validation result of `spec` on the DataFrame `df` (Data Docs are built later).

    GX decides first with result format BOOLEAN_ONLY (about 40 % less CPU than SUMMARY: no
    unexpected counts and lists); only a suite that failed is validated again with `details`
    (SUMMARY), which replaces the first result, so failures and their Data Docs carry counts
    and examples while a passing suite shows which expectations passed.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    run = context(str(settings.data_docs_dir), run_name)
    definition = _validation_definition(run, spec["name"], spec)
    run_id = RunIdentifier(run_name=run_name, run_time=run.run_time)
    result = definition.run(
        batch_parameters={"dataframe": df}, result_format="BOOLEAN_ONLY", run_id=run_id
    )
    if not result.success:
        result = definition.run(
            batch_parameters={"dataframe": df}, result_format=details, run_id=run_id
        )
    return result


def build_docs(settings: Settings, run_name: str) -> Path:
    """Write Data Docs of this run's validations (only these: older pages are removed first)."""
    docs_dir = settings.data_docs_dir
    run = context(str(docs_dir), run_name)
    shutil.rmtree(docs_dir, ignore_errors=True)
    run.ctx.build_data_docs()
    return docs_dir / "index.html"


def read_mart(con, table: str, meta: dict[str, Any]):
    """The mart (or only meta.columns of it) plus the suite's derived columns (which may read
    meta.lookups), as a DataFrame (DECIMAL -> float64)."""
    from orchestration.validate.reduction import lookup_joins

    t = quote_ident(table)
    columns = meta.get("columns")
    selected = ", ".join(f"{t}.{quote_ident(c)}" for c in columns) if columns is not None else "*"
    if columns is None:
        selected = f"{t}.*"
    derived = meta.get("derived_columns", {})
    extra = [f"({expr}) AS {quote_ident(name)}" for name, expr in derived.items()]
    select = ", ".join(([selected] if selected else []) + extra)
    joins = lookup_joins(table, meta.get("lookups", {}))
    return con.execute(f"SELECT {select} FROM main.{t}{joins}").df()


def row_level_summary(table: str, result, rows: int) -> ValidationSummary:
    stats = result.statistics
    return ValidationSummary(
        table=table,
        success=bool(result.success),
        evaluated=int(stats["evaluated_expectations"]),
        successful=int(stats["successful_expectations"]),
        failures=[failure(r) for r in result.results if not r.success],
        rows=rows,
    )


def failure(r) -> dict[str, Any]:
    cfg, res, exc = r.expectation_config, r.result or {}, r.exception_info or {}
    return {
        "expectation": cfg.type,
        "column": cfg.kwargs.get("column") or cfg.kwargs.get("column_list"),
        "unexpected_count": res.get("unexpected_count"),
        "sample": plain((res.get("partial_unexpected_list") or [])[:5]),
        "observed_value": plain(res.get("observed_value")),
        "exception": exc.get("exception_message") if exc.get("raised_exception") else None,
    }


def plain(v: Any) -> Any:
    """JSON-safe values for metadata: NaN/NA -> None, numpy scalars -> Python, dates -> text."""
    import pandas as pd

    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    if pd.api.types.is_scalar(v) and pd.isna(v):
        return None
    if hasattr(v, "isoformat"):
        text = v.isoformat()
        return text.removesuffix("T00:00:00")
    if hasattr(v, "item"):
        return plain(v.item())
    return v if isinstance(v, str | int | float | bool) else str(v)
