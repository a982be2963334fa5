"""The refresh job: ingest -> dbt build (models + tests) -> GX checks -> publish.

It runs in one process: the steps share a machine-sized DuckDB budget and run one after the
other anyway (each DuckDB query already uses every core), and process start-up per step would
cost more than the small steps themselves.

A retry (run_retries in dagster.yaml) re-runs ALL_STEPS: a fresh refresh of the same files
that depends on nothing the failed run left behind (see notes on run retries in the docs).
"""

from dagster import AssetSelection, define_asset_job, in_process_executor

refresh_job = define_asset_job(
    name="kam_refresh",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Full refresh: ingest raw files, build and test dbt models, validate, publish.",
    tags={"dagster/retry_strategy": "ALL_STEPS"},
)
