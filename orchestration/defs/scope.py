"""The run-scope asset: which months this run recomputes, decided after every ingest.

dbt, the GX checks of the month-partitioned marts and the publication all read the scope it
writes (orchestration/scope/), so they work on exactly the same months.
"""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from orchestration.defs.costing import ACTIVITY_RATES_KEY
from orchestration.defs.dbt import RUN_SCOPE_KEY
from orchestration.defs.ingest import ingest_asset_key
from orchestration.defs.resources import WarehouseResource
from orchestration.scope.runs import decide_scope
from orchestration.sources.contracts import load_contracts


@asset(
    key=RUN_SCOPE_KEY,
    deps=[ACTIVITY_RATES_KEY, *(ingest_asset_key(s) for s in load_contracts())],
    group_name="incremental",
    kinds={"python"},
    description="Months this run recomputes: every month (full rebuild) or the months touched "
    "by new, changed or withdrawn raw files since the last publication.",
)
def run_scope(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    settings = warehouse.settings()
    decision = decide_scope(settings, context.run.run_id)
    scope = decision.scope
    if scope.full:
        context.log.info(f"scope: full rebuild ({'; '.join(decision.reasons)})")
    else:
        context.log.info(f"scope: {scope.describe()}")
    return MaterializeResult(
        metadata={
            "full": scope.full,
            "months": MetadataValue.json(
                [[a.isoformat(), b.isoformat()] for a, b in scope.ranges()]
            ),
            "month_count": len(scope.months),
            "reasons": MetadataValue.json(decision.reasons[:50]),
            "as_of_date": str(decision.as_of),
            "latest_month": str(decision.latest),
        }
    )
