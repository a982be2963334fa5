"""Key-account steering assets: the designation log of earlier runs, read before dbt scores.

The log (data/history/designation_log.parquet) is the dbt source kam_history.designation_log; this
asset carries the source's key, so the lineage shows history -> int_designation_decisions ->
key_account_designations. The publication asset writes the next log after every check passed.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.defs.resources import WarehouseResource
from orchestration.steering.history import ensure_designation_log, log_path

DESIGNATION_LOG_KEY = AssetKey(["kam_history", "designation_log"])


@asset(
    key=DESIGNATION_LOG_KEY,
    group_name="kam",
    kinds={"parquet"},
    description="Key-account decisions of earlier runs (data/history/designation_log.parquet): "
    "decisions before the latest scoring date are frozen. Created empty on the first run.",
)
def designation_log(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    settings = warehouse.settings()
    rows, dates = ensure_designation_log(settings)
    context.log.info(
        f"designation log: {rows:,} decisions on {len(dates)} scoring date(s)"
        + (f", {dates[0]} .. {dates[-1]}" if dates else "")
    )
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(log_path(settings))),
            "decisions": rows,
            "scoring_dates": MetadataValue.json(dates),
        }
    )
