-- Rates into the reporting currency; the reporting currency itself converts at 1.
select rate_date, from_currency as currency, rate
from {{ ref("stg_erp__exchange_rates") }}
where to_currency = '{{ var("reporting_currency") }}'

union all

select
    date '1900-01-01' as rate_date,
    '{{ var("reporting_currency") }}' as currency,
    cast(1 as decimal(18, 6)) as rate
