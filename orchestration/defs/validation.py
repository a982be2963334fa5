"""Blocking asset checks with GX: one result per mart and per declared cost source.

All mart suites run in one Dagster step (`marts_gx_suites`), all declared-source suites in
another (`cost_sources_gx_declared_rules`), on one DuckDB connection and one GX context, with
Data Docs written once at the end (not after every suite). Each step yields one check result
per mart / source, and every check is blocking: if any fails, Dagster fails the step after all
results are reported, and nothing downstream (dbt after the sources, the publication after the
marts) runs. The work itself runs in the GX helper process of the refresh (helper.py).
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from orchestration.defs.ingest import ingest_asset_key
from orchestration.defs.resources import WarehouseResource
from orchestration.sources.dbt_codegen import cost_contracts
from orchestration.sources.gx_codegen import gx_suite
from orchestration.validate import helper
from orchestration.validate.gx import ValidationSummary, suite_tables
from orchestration.validate.marts import check_marts, check_sources

MART_STEP = "marts_gx_suites"
SOURCE_STEP = "cost_sources_gx_declared_rules"
SOURCE_CHECK = "gx_declared_rules"


def mart_check_name(table: str) -> str:
    return f"gx_{table}"


def build_mart_checks(tables: list[str]) -> AssetChecksDefinition:
    specs = [
        AssetCheckSpec(
            mart_check_name(t),
            asset=AssetKey([t]),
            blocking=True,
            description=f"Great Expectations suite expectations/{t}.json",
        )
        for t in tables
    ]

    @multi_asset_check(
        specs=specs,
        name=MART_STEP,
        can_subset=True,
        description="The GX suites of the marts (expectations/), Data Docs once at the end.",
    )
    def _checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        from orchestration.transform.manifest import partitioned_marts

        settings = warehouse.settings()
        chosen = context.selected_asset_check_keys
        selected = [t for t in tables if AssetCheckKey(AssetKey([t]), mart_check_name(t)) in chosen]
        summaries, docs_seconds = helper.call(
            check_marts, settings, context.run.run_id, selected, partitioned_marts()
        )
        for summary in summaries:
            _log(context, summary)
            yield check_result(summary, AssetKey([summary.table]), mart_check_name(summary.table))
        context.log.info(f"GX Data Docs {settings.data_docs_dir} in {docs_seconds:.2f} s")

    return _checks


def build_source_checks(specs: dict[str, dict]) -> AssetChecksDefinition:
    """GX suites generated from the declarations sources/<name>.yml, on their accepted rows."""

    @multi_asset_check(
        specs=[
            AssetCheckSpec(
                SOURCE_CHECK,
                asset=ingest_asset_key(name),
                blocking=True,
                description=f"Great Expectations suite generated from sources/{name}.yml "
                f"({len(spec['expectations'])} expectations: required, ranges, allowed values, "
                "key)",
            )
            for name, spec in specs.items()
        ],
        name=SOURCE_STEP,
        can_subset=True,
    )
    def _checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings()
        chosen = context.selected_asset_check_keys
        selected = {
            name: spec
            for name, spec in specs.items()
            if AssetCheckKey(ingest_asset_key(name), SOURCE_CHECK) in chosen
        }
        for name, summary in zip(
            selected,
            helper.call(check_sources, settings, context.run.run_id, selected),
            strict=True,
        ):
            _log(context, summary)
            yield check_result(summary, ingest_asset_key(name), SOURCE_CHECK)

    return _checks


def check_result(summary: ValidationSummary, asset: AssetKey, name: str) -> AssetCheckResult:
    metadata = {
        "rows": summary.rows,
        "validated": summary.validated,
        "evaluated_expectations": summary.evaluated,
        "successful_expectations": summary.successful,
        "failures": MetadataValue.json(summary.failures),
    }
    if summary.compact_rows is not None:
        metadata["compact_frame_rows"] = summary.compact_rows
    if summary.note:
        metadata["note"] = summary.note
    return AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=summary.success,
        severity=AssetCheckSeverity.ERROR,
        description=None if summary.success else describe_failures(summary.failures),
        metadata=metadata,
    )


def _log(context: AssetCheckExecutionContext, summary: ValidationSummary) -> None:
    how = "" if summary.compact_rows is None else f", compact frame of {summary.compact_rows:,}"
    times = " ".join(f"{k} {v:.2f} s" for k, v in summary.seconds.items())
    note = f"; {summary.note}" if summary.note else ""
    context.log.info(
        f"GX {summary.table}: {summary.successful}/{summary.evaluated} expectations passed on "
        f"{summary.rows:,} rows ({summary.validated}{how}; {times}{note})"
    )


def describe_failures(failures: list[dict]) -> str:
    parts = []
    for f in failures:
        text = f"{f['expectation']}({f['column']}): {f['unexpected_count']} unexpected"
        if f.get("groups"):
            text += f" in {f['groups']}"
        if f.get("observed_value") is not None:
            text += f", observed {f['observed_value']}"
        if f.get("exception"):
            text += f", error {f['exception']}"
        parts.append(f"{text}, e.g. {f['sample']}")
    return "; ".join(parts)


gx_checks = [
    build_mart_checks(suite_tables()),
    build_source_checks({c.name: gx_suite(c) for c in cost_contracts()}),
]
