"""One Dagster asset per raw source, generated from its contract in sources/*.yml.

Asset keys are ["erp", <source>], the same keys dagster-dbt gives the dbt sources, so the
lineage raw file -> ingest -> staging model shows up without extra wiring.
"""

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.duck import quote_literal
from orchestration.ingest.contracts import SourceContract, load_contracts
from orchestration.ingest.load import IngestResult, ingest_source
from orchestration.resources import WarehouseResource

SOURCE_GROUP = "erp"
RECONCILE_CHECK = "raw_rows_reconcile"


def ingest_asset_key(source: str) -> AssetKey:
    return AssetKey([SOURCE_GROUP, source])


def build_ingest_asset(contract: SourceContract) -> AssetsDefinition:
    key = ingest_asset_key(contract.name)

    @asset(
        key=key,
        deps=[ingest_asset_key(d) for d in contract.depends_on],
        group_name="ingest",
        description=f"Ingest data/raw/{contract.folder}/: {' '.join(contract.description.split())}",
        kinds={"duckdb", "parquet"},
        check_specs=[
            AssetCheckSpec(
                RECONCILE_CHECK,
                asset=key,
                blocking=True,
                description="raw rows = accepted + quarantined (no row silently dropped)",
            )
        ],
    )
    def _ingest(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        settings = warehouse.settings()
        result = ingest_source(contract, settings)
        context.log.info(
            f"{contract.name}: {len(result.files)} file(s) ({len(result.parsed_files)} new or "
            f"changed, {len(result.removed_files)} removed), {result.raw_rows:,} raw rows, "
            f"{result.accepted_rows:,} accepted, {result.quarantined_rows:,} quarantined "
            f"({result.duplicate_rows:,} duplicate re-exports)"
        )
        if result.quarantined_rows:
            context.log.warning(f"{contract.name}: quarantine reasons {result.reasons}")
        return MaterializeResult(
            metadata=_metadata(result, settings.quarantine_glob(contract.name)),
            check_results=[_reconcile_check(result)],
        )

    return _ingest


def _reconcile_check(result: IngestResult) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=RECONCILE_CHECK,
        passed=result.raw_rows == result.accepted_rows + result.quarantined_rows,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "raw_rows": result.raw_rows,
            "accepted_rows": result.accepted_rows,
            "quarantined_rows": result.quarantined_rows,
        },
    )


def _metadata(result: IngestResult, quarantine_glob: str) -> dict[str, object]:
    sample = []
    if result.quarantined_rows:
        # A connection of its own: DuckDB's process-wide default connection may hold another
        # caller's unfinished result (DuckDB 2.0 then refuses new work on it).
        with duckdb.connect() as con:
            sample = con.execute(
                "SELECT source_file, source_row, reason "
                f"FROM read_parquet({quote_literal(quarantine_glob)}) LIMIT 10"
            ).fetchall()
    rows = "\n".join(f"| {f.rsplit('/', 1)[-1]} | {r} | {why} |" for f, r, why in sample)
    return {
        "files": MetadataValue.json(result.files),
        "parsed_files": MetadataValue.json(result.parsed_files),
        "rewritten_outputs": MetadataValue.json(result.rewritten_files),
        "removed_files": MetadataValue.json(result.removed_files),
        "pending_months": MetadataValue.json(result.footprint.to_json()),
        "raw_rows": result.raw_rows,
        "accepted_rows": result.accepted_rows,
        "quarantined_rows": result.quarantined_rows,
        "duplicate_rows": result.duplicate_rows,
        "quarantine_reasons": MetadataValue.json(result.reasons),
        "quarantine_sample": MetadataValue.md(
            "| file | row | reason |\n|---|---|---|\n" + rows if rows else "(none)"
        ),
    }


ingest_assets = [build_ingest_asset(c) for c in load_contracts().values()]
