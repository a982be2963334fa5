{{ config(meta={"dagster": {"ref": {"name": "whale_curve"}}}) }}
-- The last point of every whale curve is 100 % of net revenue and of key-account value, and the
-- curve is ranked by key-account value (never rising with rank).
with
    last_points as (
        select
            period,
            arg_max(cumulative_net_revenue, rank) as cum_revenue,
            arg_max(cumulative_key_account_value, rank) as cum_value,
            any_value(total_net_revenue) as total_revenue,
            any_value(total_key_account_value) as total_value,
            count(*) as n,
            max(rank) as max_rank
        from {{ ref("whale_curve") }}
        group by period
    )
select period, 'last point is not the total' as problem
from last_points
where cum_revenue <> total_revenue or cum_value <> total_value or n <> max_rank
union all
select period, 'key-account value rises at rank ' || rank
from
    (
        select
            period,
            rank,
            key_account_value
            - lag(key_account_value) over (partition by period order by rank) as step
        from {{ ref("whale_curve") }}
    )
where step > 0
