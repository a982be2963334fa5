-- Every relationship-cost booking or allocation, one row per origin (the drill-down behind
-- cost_to_serve): direct bookings and driver-based allocations in one shape. Allocations carry
-- the activity, the driver quantity and the rate (and the catalogue row of the rate).
with
    -- by position with the columns listed (not UNION ALL BY NAME), so that DuckDB prunes the
    -- columns a reader does not select; the direct lines have no activity or rate (NULLs)
    lines as (
        select {{ cost_line_columns("line", have="direct") }}
        from {{ ref("int_direct_cost_lines") }}
        union all
        select {{ cost_line_columns("line") }}
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
    {{ cost_line_columns("line") }}
from lines
