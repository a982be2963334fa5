{{ config(materialized="table") }}  -- read by key_account_value and three tests: spread once
-- Revenue deductions in the month they belong to, reporting currency.
-- A bonus that refers to a period (a year-end, retroactive bonus) is spread over the months of
-- its period in proportion to the account's net revenue before bonuses in each month (gross
-- revenue - cash discounts - rebates - promotions; months with none or negative weigh 0), so a
-- December booking does not distort December. Largest-remainder rounding in integer cents: each
-- month gets the floor of its exact share, the cents left over go to the months with the largest
-- remainders (earlier month first on ties), so the shares add up to the booked bonus exactly.
-- A bonus whose period has no positive net revenue, and every other deduction, stays in its
-- booking month.
with
    deductions as (select * from {{ ref("int_revenue_deductions_converted") }}),

    revenue as (
        select account_id, month, gross_revenue from {{ ref("int_account_revenue_months") }}
    ),

    other_deductions as (
        select account_id, month, sum(amount) as amount
        from deductions
        where deduction_type <> 'bonus'
        group by account_id, month
    ),

    net_revenue as (
        select
            account_id,
            month,
            coalesce(r.gross_revenue, 0) - coalesce(o.amount, 0) as net_revenue_before_bonuses
        from revenue as r
        full join other_deductions as o using (account_id, month)
    ),

    bonus_months as (
        select
            b.deduction_id,
            cast(m.month_start as date) as month,
            cast(round(b.amount * 100) as hugeint) as bonus_cents,
            greatest(
                cast(round(coalesce(n.net_revenue_before_bonuses, 0) * 100) as hugeint), 0
            ) as weight
        from deductions as b
        cross join
            unnest(
                generate_series(
                    cast(date_trunc('month', b.period_start) as timestamp),
                    cast(date_trunc('month', b.period_end) as timestamp),
                    interval 1 month
                )
            ) as m(month_start)
        left join
            net_revenue as n
            on n.account_id = b.account_id
            and n.month = cast(m.month_start as date)
        where
            b.deduction_type = 'bonus'
            and b.period_start is not null
            and b.period_end >= b.period_start
    ),

    weighted as (
        select *, sum(weight) over (partition by deduction_id) as total_weight from bonus_months
    ),

    -- exact integer shares: floor(|cents| x weight / total) and its remainder
    shares as (
        select
            *,
            divide(abs(bonus_cents) * weight, total_weight) as floor_cents,
            mod(abs(bonus_cents) * weight, total_weight) as remainder
        from weighted
        where total_weight > 0
    ),

    ranked as (
        select
            *,
            abs(bonus_cents) - sum(floor_cents) over (partition by deduction_id) as leftover_cents,
            row_number() over (
                partition by deduction_id order by remainder desc, month
            ) as remainder_rank
        from shares
    ),

    spread as (
        select
            deduction_id,
            month,
            cast(
                cast(
                    (case when bonus_cents < 0 then -1 else 1 end) * (
                        floor_cents + case when remainder_rank <= leftover_cents then 1 else 0 end
                    ) as decimal(38, 0)
                )
                * 0.01 as decimal(18, 2)
            ) as amount,
            cast(weight as decimal(38, 0)) / cast(total_weight as decimal(38, 0)) as spread_share
        from ranked
    )

select
    d.deduction_id,
    d.deduction_type,
    d.account_id,
    d.customer_id,
    d.booking_date,
    s.month,
    s.amount,
    'spread_by_net_revenue' as allocation,
    s.spread_share,
    d.amount as booked_amount,
    d.period_start,
    d.period_end,
    d.source_file,
    d.source_row
from spread as s
inner join deductions as d using (deduction_id)
where s.amount <> 0

union all

select
    d.deduction_id,
    d.deduction_type,
    d.account_id,
    d.customer_id,
    d.booking_date,
    d.month,
    d.amount,
    case
        when d.deduction_type = 'bonus' and d.period_start is not null
        then 'booking_month_no_revenue_in_period'
        else 'booking_month'
    end as allocation,
    1 as spread_share,
    d.amount as booked_amount,
    d.period_start,
    d.period_end,
    d.source_file,
    d.source_row
from deductions as d
where d.deduction_id not in (select deduction_id from spread)
