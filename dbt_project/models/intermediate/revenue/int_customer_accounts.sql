-- Each sold-to customer belongs to one key account: its customer group, or itself
-- when standalone.
select
    customer_id,
    customer_name,
    coalesce(customer_group_id, customer_id) as account_id,
    coalesce(
        max(customer_group_name) over (partition by customer_group_id), customer_name
    ) as account_name,
    customer_group_id is null as is_standalone,
    country,
    invoicing_currency,
    customer_since,
    payment_net_days,
    cash_discount_pct,
    cash_discount_days
from {{ ref("stg_erp__customers") }}
