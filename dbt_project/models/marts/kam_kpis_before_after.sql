-- For accounts designated during the data's time span (a key-account period that starts after
-- the first scoring date): the kam_kpis measures in the months before the designation and in
-- two windows after it (config/scoring.yml designation_effect; results of a KAM programme show
-- after about 9 to 18 months). Month 1 is the first month the designation is in force.
-- before       months -months_before .. -1
-- after_early  months 1 .. result_lag_months
-- after_late   months result_lag_months + 1 .. months_after
-- months_covered counts the months of the window inside the data. One row per designation and
-- window, plus rows 'all_designated_accounts' summing every designation.
{%- set e = kam_scoring().designation_effect %}
with
    months as (select * from {{ ref("int_account_months") }}),

    designations as (select * from {{ ref("key_account_designations") }}),

    first_scoring as (select min(valid_from) as scoring_date from designations),

    events as (
        select
            d.account_id,
            d.account_name,
            d.valid_from as designation_date,
            cast(date_trunc('month', d.valid_from) + interval 1 month as date) as first_month
        from designations as d
        cross join first_scoring as f
        where d.is_key_account and d.valid_from > f.scoring_date
    ),

    windows as (
        select *
        from
            (
                values
                    ('before', 1, -{{ e.months_before }}, -1),
                    ('after_early', 2, 1, {{ e.result_lag_months }}),
                    ('after_late', 3, {{ e.result_lag_months + 1 }}, {{ e.months_after }})
            ) as w(time_window, window_order, months_from, months_to)
    ),

    per_designation as (
        select
            ev.account_id,
            ev.account_name,
            ev.designation_date,
            w.time_window,
            w.window_order,
            w.months_from,
            w.months_to,
            count(m.month) as months_covered,
            coalesce(sum(m.net_revenue), 0) as net_revenue,
            coalesce(sum(m.relationship_costs), 0) as relationship_costs,
            coalesce(sum(m.key_account_value), 0) as key_account_value,
            coalesce(sum(m.invoice_count), 0) as invoices,
            coalesce(sum(m.complaint_count), 0) as complaints,
            count(m.month) filter (where l.phase <> 'lost') as retained_months
        from events as ev
        cross join windows as w
        left join
            months as m
            on m.account_id = ev.account_id
            -- month k (k >= 1 after, k <= -1 before) relative to the first month in force
            and datediff('month', ev.first_month, m.month)
            + case when m.month >= ev.first_month then 1 else 0 end
            between w.months_from and w.months_to
        left join
            {{ ref("account_lifecycle") }} as l on l.account_id = m.account_id and l.month = m.month
        group by all
    ),

    -- Each window next to the same designation's "before" window (growth compares the two).
    paired as (
        select p.*, b.net_revenue as before_net_revenue, b.months_covered as before_months_covered
        from per_designation as p
        join
            per_designation as b
            on b.account_id = p.account_id
            and b.designation_date = p.designation_date
            and b.time_window = 'before'
    ),

    -- All designations together; growth only over designations with months in the window.
    combined as (
        select 'designation' as scope, *
        from paired
        union all
        select
            'all_designated_accounts',
            null,
            null,
            null,
            time_window,
            window_order,
            months_from,
            months_to,
            sum(months_covered),
            sum(net_revenue),
            sum(relationship_costs),
            sum(key_account_value),
            sum(invoices),
            sum(complaints),
            sum(retained_months),
            sum(before_net_revenue) filter (where months_covered > 0),
            sum(before_months_covered) filter (where months_covered > 0)
        from paired
        group by time_window, window_order, months_from, months_to
    ),

    with_before as (
        select
            *,
            net_revenue / nullif(months_covered, 0) as avg_monthly_net_revenue,
            before_net_revenue / nullif(before_months_covered, 0) as before_avg_monthly_net_revenue
        from combined
    )

select
    scope,
    account_id,
    account_name,
    designation_date,
    time_window,
    months_from,
    months_to,
    cast(months_covered as bigint) as months_covered,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(net_revenue as decimal(18, 2)) as net_revenue,
    cast(round(avg_monthly_net_revenue, 2) as decimal(18, 2)) as avg_monthly_net_revenue,
    cast(relationship_costs as decimal(18, 2)) as relationship_costs,
    cast(key_account_value as decimal(18, 2)) as key_account_value,
    round(key_account_value / nullif(net_revenue, 0), 4) as relative_operating_profit,
    round(relationship_costs / nullif(net_revenue, 0), 4) as cost_to_serve_ratio,
    case
        when time_window <> 'before'
        then round(avg_monthly_net_revenue / nullif(before_avg_monthly_net_revenue, 0) - 1, 4)
    end as revenue_growth_vs_before,
    round(retained_months / nullif(months_covered, 0), 4) as retention_rate,
    cast(invoices as bigint) as invoices,
    cast(complaints as bigint) as complaints,
    round(100.0 * complaints / nullif(invoices, 0), 2) as complaint_rate
from with_before
order by scope desc, account_id, designation_date, window_order
