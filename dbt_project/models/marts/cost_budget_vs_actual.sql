-- Planned relationship costs against actual cost-to-serve per account, year and cost category,
-- reporting currency. Accounts appear for the years they have a budget; every category with a
-- budget or an actual cost in such a year is a row (an unbudgeted category has budget 0).
-- actual_to_date = sum of cost_to_serve in the year up to the latest month with data;
-- variance = actual_to_date - budget (positive = over budget); share_used = actual / budget.
with
    budgets as (
        select account_id, year, cost_category, sum(budget) as budget
        from {{ ref("int_cost_budgets_converted") }}
        group by account_id, year, cost_category
    ),

    budgeted_years as (select distinct account_id, year from budgets),

    actuals as (
        select
            c.account_id,
            cast(year(c.month) as bigint) as year,
            c.cost_category,
            sum(c.amount) as actual,
            max(c.month) as last_month
        from {{ ref("cost_to_serve") }} as c
        inner join
            budgeted_years as y
            on y.account_id = c.account_id
            and y.year = cast(year(c.month) as bigint)
        group by c.account_id, cast(year(c.month) as bigint), c.cost_category
    ),

    joined as (
        select
            account_id,
            year,
            cost_category,
            coalesce(b.budget, 0) as budget,
            coalesce(a.actual, 0) as actual_to_date,
            a.last_month
        from budgets as b
        full join actuals as a using (account_id, year, cost_category)
    )

select
    j.account_id,
    j.year,
    j.cost_category,
    c.label as cost_category_label,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(j.budget as decimal(18, 2)) as budget,
    cast(j.actual_to_date as decimal(18, 2)) as actual_to_date,
    cast(j.actual_to_date - j.budget as decimal(18, 2)) as variance,
    case
        when j.budget > 0 then cast(round(j.actual_to_date / j.budget, 4) as decimal(12, 4))
    end as share_used,
    j.last_month as actual_through_month
from joined as j
left join {{ ref("cost_categories") }} as c using (cost_category)
order by j.account_id, j.year, c.sort_order
