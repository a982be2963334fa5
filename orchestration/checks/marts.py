"""Blocking asset checks on the marts: one GX suite each. A failure stops publishing."""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from orchestration.assets.ingest import ingest_asset_key
from orchestration.checks.gx_suites import suite_tables, validate_source, validate_table
from orchestration.costing.sources import cost_contracts, gx_suite
from orchestration.resources import WarehouseResource


def build_gx_check(table: str) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey([table]),
        name=f"gx_{table}",
        blocking=True,
        description=f"Great Expectations suite expectations/{table}.json",
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> AssetCheckResult:
        settings = warehouse.settings()
        summary = validate_table(settings, table, run_name=context.run.run_id)
        context.log.info(
            f"GX {table}: {summary.successful}/{summary.evaluated} expectations passed "
            f"on {summary.rows:,} rows"
        )
        return AssetCheckResult(
            passed=summary.success,
            severity=AssetCheckSeverity.ERROR,
            description=None if summary.success else _describe(summary.failures),
            metadata={
                "rows": summary.rows,
                "evaluated_expectations": summary.evaluated,
                "successful_expectations": summary.successful,
                "failures": MetadataValue.json(summary.failures),
                "data_docs": MetadataValue.path(str(settings.data_docs_dir / "index.html")),
            },
        )

    return _check


def build_source_gx_check(name: str, spec: dict) -> AssetChecksDefinition:
    """GX suite generated from the declaration sources/<name>.yml, on its accepted rows."""

    @asset_check(
        asset=ingest_asset_key(name),
        name="gx_declared_rules",
        blocking=True,
        description=f"Great Expectations suite generated from sources/{name}.yml "
        f"({len(spec['expectations'])} expectations: required, ranges, allowed values, key)",
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> AssetCheckResult:
        settings = warehouse.settings()
        summary = validate_source(settings, name, spec, run_name=context.run.run_id)
        return AssetCheckResult(
            passed=summary.success,
            severity=AssetCheckSeverity.ERROR,
            description=None if summary.success else _describe(summary.failures),
            metadata={
                "rows": summary.rows,
                "evaluated_expectations": summary.evaluated,
                "successful_expectations": summary.successful,
                "failures": MetadataValue.json(summary.failures),
            },
        )

    return _check


def _describe(failures: list[dict]) -> str:
    return "; ".join(
        f"{f['expectation']}({f['column']}): {f['unexpected_count']} unexpected, e.g. {f['sample']}"
        for f in failures
    )


gx_checks = [build_gx_check(t) for t in suite_tables()] + [
    build_source_gx_check(c.name, gx_suite(c)) for c in cost_contracts()
]
