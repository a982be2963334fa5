-- The dates on which accounts are scored: the last day of every month, quarter or year
-- (config/scoring.yml scoring_dates.frequency) from the month in which the data holds
-- min_history_months months up to the last month with invoices. Data-derived criteria look at
-- the window_months months up to the scoring date.
{%- set cfg = kam_scoring() %}
{%- set freq = cfg.scoring_dates.frequency %}
with
    span as (
        select min(month) as data_first_month, max(month) as data_last_month
        from {{ ref("int_account_revenue_months") }}
    ),

    months as (
        select
            cast(
                unnest(generate_series(data_first_month, data_last_month, interval 1 month)) as date
            ) as month,
            data_first_month
        from span
        where data_first_month is not null
    )

select
    last_day(month) as scoring_date,
    cast(month - interval {{ cfg.window_months - 1 }} month as date) as window_start,
    cast(month - interval {{ 2 * cfg.window_months - 1 }} month as date) as previous_window_start,
    data_first_month
from months
where
    datediff('month', data_first_month, month) + 1 >= {{ cfg.scoring_dates.min_history_months }}
    {%- if freq == "quarter" %} and month(month) in (3, 6, 9, 12)
    {%- elif freq == "year" %} and month(month) = 12
    {%- endif %}
