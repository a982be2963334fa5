"""The refresh job: ingest -> dbt build (models + tests) -> GX checks -> publish.

It runs in one process: the steps share a machine-sized DuckDB budget and run one after the
other anyway (each DuckDB query already uses every core), and process start-up per step would
cost more than the small steps themselves.
"""

from dagster import AssetSelection, define_asset_job, in_process_executor

refresh_job = define_asset_job(
    name="kam_refresh",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Full refresh: ingest raw files, build and test dbt models, validate, publish.",
)
