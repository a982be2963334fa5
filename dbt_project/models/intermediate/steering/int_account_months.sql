{{ config(materialized="table") }}  -- read by lifecycle and both KPI marts
-- A dense calendar per account: every month from the start of its relationship (or of the
-- data) to the last month with invoices, with the waterfall of key_account_value, the number
-- of invoices and of complaints. Months without business are rows with zeros, so trailing
-- windows (lifecycle, KPIs) count them.
with
    span as (
        select min(month) as data_first_month, max(month) as data_last_month
        from {{ ref("int_account_revenue_months") }}
    ),

    waterfall as (
        select
            account_id,
            month,
            gross_revenue,
            net_revenue,
            gross_margin,
            relationship_costs,
            key_account_value
        from {{ ref("key_account_value") }}
    ),

    invoices as (
        select account_id, month, invoice_count
        from {{ ref("int_account_revenue_months") }}
        where invoice_count > 0
    ),

    complaints as (
        select
            a.account_id,
            cast(date_trunc('month', s.cost_date) as date) as month,
            count(*) as complaint_count
        from {{ ref("stg_cost__service_logs") }} as s
        join {{ ref("int_customer_accounts") }} as a using (customer_id)
        where s.cost_category = 'complaint_goodwill'
        group by all
    ),

    accounts as (
        select account_id, min(customer_since) as customer_since
        from {{ ref("int_customer_accounts") }}
        group by all
    ),

    starts as (
        select
            a.account_id,
            a.customer_since,
            a.customer_since >= s.data_first_month as began_in_data,
            least(
                greatest(s.data_first_month, cast(date_trunc('month', a.customer_since) as date)),
                coalesce(w.first_month, s.data_last_month)
            ) as start_month,
            s.data_first_month,
            s.data_last_month
        from accounts as a
        cross join span as s
        left join
            (select account_id, min(month) as first_month from waterfall group by all) as w using (
                account_id
            )
        where s.data_first_month is not null
    ),

    grid as (
        select
            account_id,
            customer_since,
            began_in_data,
            data_first_month,
            cast(
                unnest(generate_series(start_month, data_last_month, interval 1 month)) as date
            ) as month
        from starts
        where start_month <= data_last_month
    )

select
    g.account_id,
    g.month,
    g.customer_since,
    g.began_in_data,
    datediff('month', g.data_first_month, g.month) as data_month_index,
    coalesce(w.gross_revenue, 0) as gross_revenue,
    coalesce(w.net_revenue, 0) as net_revenue,
    coalesce(w.gross_margin, 0) as gross_margin,
    coalesce(w.relationship_costs, 0) as relationship_costs,
    coalesce(w.key_account_value, 0) as key_account_value,
    coalesce(i.invoice_count, 0) as invoice_count,
    coalesce(c.complaint_count, 0) as complaint_count
from grid as g
left join waterfall as w using (account_id, month)
left join invoices as i using (account_id, month)
left join complaints as c using (account_id, month)
