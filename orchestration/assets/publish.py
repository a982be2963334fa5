"""The publish asset: runs only after every blocking check upstream passed."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from orchestration.assets.dbt import mart_asset_keys, mart_models
from orchestration.assets.ingest import ingest_asset_key
from orchestration.incremental.runs import commit_run
from orchestration.ingest.contracts import load_contracts
from orchestration.kam.history import persist_designation_log
from orchestration.publish import publish
from orchestration.resources import WarehouseResource


@asset(
    deps=[*mart_asset_keys(), *(ingest_asset_key(s) for s in load_contracts())],
    group_name="publish",
    kinds={"parquet", "duckdb"},
    description="Validated marts as Parquet + a serving DuckDB file in data/published/current.",
)
def publication(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    settings = warehouse.settings()
    pub = publish(settings, mart_models(), context.run_id)
    context.log.info(f"published {pub.path.name}: {pub.row_counts}")
    # Only now, with every check passed and the publication in place, are decisions recorded.
    decisions = persist_designation_log(settings)
    context.log.info(f"designation log: {decisions:,} decisions recorded")
    # The months this run recomputed are published: they are no longer pending.
    commit_run(settings, pub.path.name)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(pub.path)),
            "row_counts": MetadataValue.json(pub.row_counts),
        }
    )
