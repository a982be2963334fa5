{{ config(materialized="view") }}
-- The drill-down of cost-to-serve: one row per cost booking (direct) or allocation (activity),
-- reporting currency, with the raw file and row it comes from. cost_to_serve is exactly its
-- aggregate by account, month and cost category.
-- A view: the lines are priced from the persisted documents and the staged sources when read
-- (cost_to_serve and financing_costs for the months of a run, the reconciliation test, GX,
-- the publication), which costs less than storing them: DuckDB writes a row of these 27
-- columns (three of them long unique strings) in about 3 us, prices it in well under 1 us, and
-- builds its text columns only for the readers that select them. A filter on month reaches the
-- sources.
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
