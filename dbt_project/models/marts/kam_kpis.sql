-- Programme results per month: key accounts vs all other accounts. An account counts as a key
-- account in a month when its designation (key_account_designations) is in force on the first
-- day of the month, so the comparison starts in the month after the first scoring date.
-- relative_operating_profit = key_account_value / net_revenue
-- cost_to_serve_ratio       = relationship_costs / net_revenue
-- revenue_growth_yoy        = net revenue / net revenue of the same accounts a year earlier - 1
-- retention_rate            = share of the segment's accounts not in lifecycle phase 'lost'
-- complaint_rate            = complaints per 100 invoices
-- relative_operating_profit_index = the segment's relative operating profit / that of the
-- other segment in the same month (key accounts: "x times the rest")
with
    months as (select * from {{ ref("int_account_months") }}),

    designations as (select * from {{ ref("key_account_designations") }}),

    first_scoring as (select min(valid_from) as scoring_date from designations),

    segmented as (
        select
            m.*,
            case
                when coalesce(d.is_key_account, false) then 'key_accounts' else 'other_accounts'
            end as segment,
            l.phase,
            py.net_revenue as net_revenue_prior_year,
            m.data_month_index >= 12 as prior_year_in_data
        from months as m
        cross join first_scoring as f
        left join
            designations as d
            on d.account_id = m.account_id
            and d.valid_from <= m.month
            and (d.valid_to is null or m.month < d.valid_to)
        left join
            {{ ref("account_lifecycle") }} as l on l.account_id = m.account_id and l.month = m.month
        left join
            months as py
            on py.account_id = m.account_id
            and py.month = cast(m.month - interval 12 month as date)
        where m.month > f.scoring_date
    ),

    totals as (
        select
            month,
            segment,
            count(*) as accounts,
            count(*) filter (where invoice_count > 0) as active_accounts,
            sum(gross_revenue) as gross_revenue,
            sum(net_revenue) as net_revenue,
            sum(gross_margin) as gross_margin,
            sum(relationship_costs) as relationship_costs,
            sum(key_account_value) as key_account_value,
            case
                when bool_and(prior_year_in_data) then sum(coalesce(net_revenue_prior_year, 0))
            end as net_revenue_prior_year,
            sum(invoice_count) as invoices,
            sum(complaint_count) as complaints,
            count(*) filter (where phase <> 'lost') as retained_accounts
        from segmented
        group by all
    ),

    ratios as (
        select
            *,
            key_account_value / nullif(net_revenue, 0) as relative_operating_profit,
            relationship_costs / nullif(net_revenue, 0) as cost_to_serve_ratio,
            net_revenue / nullif(net_revenue_prior_year, 0) - 1 as revenue_growth_yoy,
            retained_accounts / accounts as retention_rate,
            100.0 * complaints / nullif(invoices, 0) as complaint_rate
        from totals
    )

select
    r.month,
    r.segment,
    r.accounts,
    r.active_accounts,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(r.gross_revenue as decimal(18, 2)) as gross_revenue,
    cast(r.net_revenue as decimal(18, 2)) as net_revenue,
    cast(r.gross_margin as decimal(18, 2)) as gross_margin,
    cast(r.relationship_costs as decimal(18, 2)) as relationship_costs,
    cast(r.key_account_value as decimal(18, 2)) as key_account_value,
    round(r.relative_operating_profit, 4) as relative_operating_profit,
    round(
        r.relative_operating_profit / nullif(o.relative_operating_profit, 0), 3
    ) as relative_operating_profit_index,
    round(r.cost_to_serve_ratio, 4) as cost_to_serve_ratio,
    cast(r.net_revenue_prior_year as decimal(18, 2)) as net_revenue_prior_year,
    round(r.revenue_growth_yoy, 4) as revenue_growth_yoy,
    r.retained_accounts,
    round(r.retention_rate, 4) as retention_rate,
    cast(r.invoices as bigint) as invoices,
    cast(r.complaints as bigint) as complaints,
    round(r.complaint_rate, 2) as complaint_rate
from ratios as r
left join ratios as o on o.month = r.month and o.segment <> r.segment
order by r.month, r.segment
