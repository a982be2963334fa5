-- The whale curve: accounts ranked by key-account value (highest first), with the cumulative
-- share of net revenue and of key-account value. The value curve climbs above 100 % while
-- accounts add value and falls back to 100 % at the last account: the part above 100 % is the
-- value destroyed by the tail. One curve for the whole data ('all') and one per calendar year.
with
    by_period as (
        select
            'all' as period,
            min(month) as period_start,
            max(month) as period_end,
            account_id,
            sum(net_revenue) as net_revenue,
            sum(key_account_value) as key_account_value
        from {{ ref("key_account_value") }}
        group by account_id
        union all
        select
            cast(year(month) as varchar),
            min(month),
            max(month),
            account_id,
            sum(net_revenue),
            sum(key_account_value)
        from {{ ref("key_account_value") }}
        group by year(month), account_id
    ),

    ranked as (
        select
            period,
            min(period_start) over (partition by period) as period_start,
            last_day(max(period_end) over (partition by period)) as period_end,
            account_id,
            cast(net_revenue as decimal(18, 2)) as net_revenue,
            cast(key_account_value as decimal(18, 2)) as key_account_value,
            row_number() over (
                partition by period order by key_account_value desc, account_id
            ) as rank,
            count(*) over (partition by period) as accounts_in_period
        from by_period
    ),

    cumulated as (
        select
            *,
            sum(net_revenue) over running as cumulative_net_revenue,
            sum(key_account_value) over running as cumulative_key_account_value,
            sum(net_revenue) over (partition by period) as total_net_revenue,
            sum(key_account_value) over (partition by period) as total_key_account_value
        from ranked
        window running as (partition by period order by rank rows unbounded preceding)
    ),

    current_designation as (
        select account_id, is_key_account
        from {{ ref("key_account_designations") }}
        where is_current
    ),

    names as (
        select account_id, any_value(account_name) as account_name
        from {{ ref("int_customer_accounts") }}
        group by all
    )

select
    c.period,
    c.period_start,
    c.period_end,
    c.rank,
    c.account_id,
    n.account_name,
    coalesce(d.is_key_account, false) as is_key_account,
    c.net_revenue,
    c.key_account_value,
    c.cumulative_net_revenue,
    c.cumulative_key_account_value,
    c.rank / c.accounts_in_period as cumulative_account_share,
    c.cumulative_net_revenue / nullif(c.total_net_revenue, 0) as cumulative_net_revenue_share,
    c.cumulative_key_account_value
    / nullif(c.total_key_account_value, 0) as cumulative_key_account_value_share,
    c.total_net_revenue,
    c.total_key_account_value
from cumulated as c
left join names as n using (account_id)
left join current_designation as d using (account_id)
order by c.period, c.rank
