select
    customer_id,
    customer_name,
    customer_group_id,
    customer_group_name,
    country,
    currency as invoicing_currency,
    customer_since,
    payment_net_days,
    coalesce(cash_discount_pct, 0) as cash_discount_pct,
    coalesce(cash_discount_days, 0) as cash_discount_days,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "customers") }}
