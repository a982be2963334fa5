"""Cost configuration as Dagster assets and blocking checks.

- asset ["config", "activity_rates"]: validates config/activity_rates.csv (the activity catalogue)
  and hands it to dbt as Parquet (dbt source `config.activity_rates`); an invalid catalogue fails
  the step, so nothing downstream is built or published.
- check budget_accounts_known on ["erp", "cost_budgets"]: every budget names a known account.
- check driver_volumes_priced on cost_lines: every driver volume found a valid rate.
All three name the file, the row and the problem.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from orchestration.costing.catalogue import CatalogueError, load_catalogue, shown
from orchestration.costing.declarations import catalogue_problems
from orchestration.costing.validation import (
    unknown_budget_accounts,
    unpriced_driver_volumes,
    write_catalogue,
)
from orchestration.defs.ingest import ingest_asset_key
from orchestration.defs.resources import WarehouseResource

ACTIVITY_RATES_KEY = AssetKey(["config", "activity_rates"])


@asset(
    key=ACTIVITY_RATES_KEY,
    group_name="config",
    kinds={"csv", "parquet"},
    description="The activity catalogue config/activity_rates.csv, validated: rates of the "
    "driver-based cost allocation (activity, cost category, driver, rate, currency, validity).",
)
def activity_rates(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    settings = warehouse.settings()
    path = settings.activity_rates_file
    rates = load_catalogue(path)  # CatalogueError names file, row and problem
    # Driver-based cost sources (sources/*.yml) must name activities the catalogue prices.
    if problems := catalogue_problems(rates):
        raise CatalogueError(
            "cost sources and activity catalogue disagree:\n  " + "\n  ".join(problems)
        )
    target = write_catalogue(settings, rates, path)
    activities = sorted({r.activity for r in rates})
    context.log.info(
        f"activity catalogue {shown(path)}: {len(rates)} rates for {len(activities)} activities"
    )
    return MaterializeResult(
        metadata={
            "file": MetadataValue.path(str(path)),
            "parquet": MetadataValue.path(str(target)),
            "rates": len(rates),
            "activities": MetadataValue.json(activities),
        }
    )


def _result(problems: list[str], total: int, what: str) -> AssetCheckResult:
    more = f" ({total} in all)" if total > len(problems) else ""
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description=("\n  " + "\n  ".join(problems) + more) if problems else None,
        metadata={what: total, "problems": MetadataValue.json(problems)},
    )


@asset_check(
    asset=ingest_asset_key("cost_budgets"),
    name="budget_accounts_known",
    blocking=True,
    additional_deps=[ingest_asset_key("customers")],
    description="Every budget row names a key account: a customer group, or a customer without one.",
)
def budget_accounts_known(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource
) -> AssetCheckResult:
    problems, total = unknown_budget_accounts(warehouse.settings())
    return _result(problems, total, "unknown_account_rows")


@asset_check(
    asset=AssetKey(["cost_lines"]),
    name="driver_volumes_priced",
    blocking=True,
    description="Every driver volume (order lines, shipments, quote hours, receivables, ...) is "
    "priced by exactly one valid rate of each activity on its driver (config/activity_rates.csv).",
)
def driver_volumes_priced(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource
) -> AssetCheckResult:
    problems, total = unpriced_driver_volumes(warehouse.settings())
    return _result(problems, total, "unpriced_driver_volumes")


costing_checks = [budget_accounts_known, driver_volumes_priced]
