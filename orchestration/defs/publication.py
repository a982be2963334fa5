"""The publish asset: runs only after every blocking check upstream passed."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from orchestration.defs.dbt import mart_asset_keys
from orchestration.defs.ingest import ingest_asset_key
from orchestration.defs.resources import WarehouseResource
from orchestration.publish.publication import publish
from orchestration.scope.run_scope import read_scope
from orchestration.scope.runs import commit_run
from orchestration.sources.contracts import load_contracts
from orchestration.steering.history import persist_designation_log
from orchestration.transform.manifest import mart_models, partitioned_marts


@asset(
    deps=[*mart_asset_keys(), *(ingest_asset_key(s) for s in load_contracts())],
    group_name="publish",
    kinds={"parquet", "duckdb"},
    description="Validated marts as Parquet (cost_lines and cost_to_serve one file per month) "
    "+ a serving DuckDB file in data/published/current.",
)
def publication(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    settings = warehouse.settings()
    scope = read_scope(settings)
    pub = publish(settings, mart_models(), context.run.run_id, partitioned_marts(), scope)
    written = {m: len(v) for m, v in pub.written_months.items()}
    carried = {m: len(v) for m, v in pub.carried_months.items()}
    context.log.info(
        f"published {pub.path.name} (scope: {scope.describe()}): {pub.row_counts}; "
        f"month files written {written}, carried over {carried}"
    )
    # Only now, with every check passed and the publication in place, are decisions recorded.
    decisions = persist_designation_log(settings)
    context.log.info(f"designation log: {decisions:,} decisions recorded")
    # The months this run recomputed are published: they are no longer pending.
    commit_run(settings, pub.path.name)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(pub.path)),
            "row_counts": MetadataValue.json(pub.row_counts),
            "scope": MetadataValue.json(scope.dbt_var()),
            "month_files_written": MetadataValue.json(pub.written_months),
            "month_files_carried_over": MetadataValue.json(pub.carried_months),
        }
    )
