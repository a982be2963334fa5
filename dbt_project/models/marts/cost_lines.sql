{{
    config(
        materialized="incremental",
        incremental_strategy="replace_months",
        on_schema_change="fail",
    )
}}
-- The drill-down of cost-to-serve: one row per cost booking (direct) or allocation (activity),
-- reporting currency, with the raw file and row it comes from. cost_to_serve is exactly its
-- aggregate by account, month and cost category. Month-partitioned: an incremental run
-- recomputes only its months (see macros/scope.sql). Unordered: the publication writes one
-- Parquet file per month and orders within it.
select
    l.cost_line_id,
    l.account_id,
    l.customer_id,
    l.month,
    l.cost_date,
    l.cost_category,
    c.label as cost_category_label,
    l.allocation,
    l.activity,
    l.driver,
    l.driver_quantity,
    l.rate,
    l.rate_currency,
    l.rate_valid_from,
    l.rate_source_file,
    l.rate_source_row,
    l.currency,
    l.amount_document_currency,
    l.fx_rate,
    '{{ var("reporting_currency") }}' as reporting_currency,
    l.amount,
    l.source_name,
    l.source_id,
    l.source_file,
    l.source_row,
    l.detail
from {{ ref("int_cost_lines") }} as l
left join {{ ref("cost_categories") }} as c using (cost_category)
where {{ in_run_scope("l.month") }}
