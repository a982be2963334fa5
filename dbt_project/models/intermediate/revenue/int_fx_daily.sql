{{ config(materialized="table") }}
-- The rate into the reporting currency for every currency and day: the latest rate on or before
-- the day, from the currency's first rate on (the reporting currency itself: 1 from 1900 on).
-- Every conversion joins this table on (currency, day) (macro fx_join). It ends on 2099-12-31:
-- a later date gets no rate, which the not_null tests on fx_rate report.
with
    rates as (select * from {{ ref("int_exchange_rates_to_reporting") }}),

    days as (
        select
            currency,
            cast(
                unnest(generate_series(min(rate_date), date '2099-12-31', interval 1 day)) as date
            ) as day
        from rates
        group by currency
    )

select d.currency, d.day, r.rate
from days as d
asof join rates as r on r.currency = d.currency and d.day >= r.rate_date
