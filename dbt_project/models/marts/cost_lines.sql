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
    {{
        cost_line_columns(
            "mart",
            alias="l",
            exprs={
                "cost_category_label": "c.label",
                "reporting_currency": "'" ~ var("reporting_currency") ~ "'",
            },
        )
    }}
from {{ ref("int_cost_lines") }} as l
left join {{ ref("cost_categories") }} as c using (cost_category)
