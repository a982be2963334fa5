-- The key-account value waterfall per account (customer group) and month, reporting
-- currency.
-- net_revenue       = gross_revenue - revenue_deductions
-- gross_margin      = net_revenue - cogs                       (contribution I)
-- key_account_value = gross_margin - relationship_costs         (contribution II)
-- Deductions are in the month they belong to: period bonuses spread over their period in
-- proportion to net revenue (int_revenue_deductions_allocated), the rest in the booking month.
-- relationship_costs = the sum of cost_to_serve (= of cost_lines) of the account and month.
-- Rebuilt in full on every run from monthly aggregates (no line is read).
with
    revenue as (
        select account_id, month, gross_revenue, cogs from {{ ref("int_account_revenue_months") }}
    ),

    deductions as (
        select
            account_id,
            month,
            sum(amount) filter (where deduction_type = 'bonus') as bonuses,
            sum(amount) filter (where deduction_type = 'cash_discount') as cash_discounts,
            sum(amount) filter (where deduction_type = 'rebate') as rebates,
            sum(amount) filter (where deduction_type = 'promotion') as promotions
        from {{ ref("int_revenue_deductions_allocated") }}
        group by all
    ),

    costs as (
        select account_id, month, sum(amount) as relationship_costs
        from {{ ref("cost_to_serve") }}
        group by all
    ),

    account_months as (
        select account_id, month
        from revenue
        union
        select account_id, month
        from deductions
        union
        select account_id, month
        from costs
    ),

    waterfall as (
        select
            am.account_id,
            am.month,
            coalesce(r.gross_revenue, 0) as gross_revenue,
            coalesce(d.bonuses, 0) as bonuses,
            coalesce(d.cash_discounts, 0) as cash_discounts,
            coalesce(d.rebates, 0) as rebates,
            coalesce(d.promotions, 0) as promotions,
            coalesce(r.cogs, 0) as cogs,
            coalesce(c.relationship_costs, 0) as relationship_costs
        from account_months as am
        left join revenue as r using (account_id, month)
        left join deductions as d using (account_id, month)
        left join costs as c using (account_id, month)
    )

select
    account_id,
    month,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(gross_revenue as decimal(18, 2)) as gross_revenue,
    cast(bonuses as decimal(18, 2)) as bonuses,
    cast(cash_discounts as decimal(18, 2)) as cash_discounts,
    cast(rebates as decimal(18, 2)) as rebates,
    cast(promotions as decimal(18, 2)) as promotions,
    cast(bonuses + cash_discounts + rebates + promotions as decimal(18, 2)) as revenue_deductions,
    cast(gross_revenue - revenue_deductions as decimal(18, 2)) as net_revenue,
    cast(cogs as decimal(18, 2)) as cogs,
    cast(net_revenue - cogs as decimal(18, 2)) as gross_margin,
    cast(relationship_costs as decimal(18, 2)) as relationship_costs,
    cast(gross_margin - relationship_costs as decimal(18, 2)) as key_account_value
from waterfall
order by account_id, month
