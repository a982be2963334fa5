-- Every relationship-cost booking or allocation, one row per origin (the drill-down behind
-- cost_to_serve): direct bookings and driver-based allocations in one shape. Allocations carry
-- the activity, the driver quantity and the rate (and the catalogue row of the rate).
with
    lines as (
        select *
        from {{ ref("int_direct_cost_lines") }}
        union all by name
        select *
        from {{ ref("int_activity_cost_lines") }}
    )

select
    source_name
    || ':'
    || source_id
    || coalesce(':' || activity, '')
    || case
        when driver like 'receivable_years%' then ':' || cast(cost_date as varchar) else ''
    end as cost_line_id,
    account_id,
    customer_id,
    month,
    cost_date,
    cost_category,
    allocation,
    activity,
    driver,
    driver_quantity,
    rate,
    rate_currency,
    rate_valid_from,
    rate_source_file,
    rate_source_row,
    currency,
    amount_document_currency,
    fx_rate,
    amount,
    source_name,
    source_id,
    source_file,
    source_row,
    detail
from lines
