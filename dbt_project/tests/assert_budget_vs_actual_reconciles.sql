{{ config(meta={"dagster": {"ref": {"name": "cost_budget_vs_actual"}}}) }}
-- Budgets in the mart add up to the converted budget rows, and actual_to_date to cost_to_serve
-- of the budgeted account-years, per account and year.
with
    budgets as (
        select account_id, year, sum(budget) as budget
        from {{ ref("int_cost_budgets_converted") }}
        group by account_id, year
    ),
    actuals as (
        select c.account_id, b.year, sum(c.amount) as actual
        from {{ ref("cost_to_serve") }} as c
        inner join budgets as b on b.account_id = c.account_id and b.year = year(c.month)
        group by c.account_id, b.year
    ),
    mart as (
        select account_id, year, sum(budget) as budget, sum(actual_to_date) as actual
        from {{ ref("cost_budget_vs_actual") }}
        group by account_id, year
    )
select *
from mart as m
full join budgets as b using (account_id, year)
left join actuals as a using (account_id, year)
where m.budget is distinct from b.budget or m.actual is distinct from coalesce(a.actual, 0)
