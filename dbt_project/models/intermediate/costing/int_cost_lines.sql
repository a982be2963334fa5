-- Every relationship-cost booking or allocation, one row per origin (the drill-down behind
-- cost_to_serve): direct bookings and driver-based allocations in one shape. Allocations carry
-- the activity, the driver quantity and the rate (and the catalogue row of the rate).
with
    -- by position with the columns listed (not UNION ALL BY NAME), so that DuckDB prunes the
    -- columns a reader does not select
    lines as (
        select
            account_id,
            customer_id,
            month,
            cost_date,
            cost_category,
            allocation,
            cast(null as varchar) as activity,
            cast(null as varchar) as driver,
            cast(null as decimal(24, 6)) as driver_quantity,
            cast(null as decimal(18, 6)) as rate,
            cast(null as varchar) as rate_currency,
            cast(null as date) as rate_valid_from,
            cast(null as varchar) as rate_source_file,
            cast(null as bigint) as rate_source_row,
            currency,
            amount_document_currency,
            fx_rate,
            amount,
            source_name,
            source_id,
            source_file,
            source_row,
            detail
        from {{ ref("int_direct_cost_lines") }}
        union all
        select
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
