{{ config(meta={"dagster": {"ref": {"name": "cost_lines"}}}) }}
-- Every accepted direct-cost row (service ticket, visit report, marketing booking) is exactly
-- one cost line, and every priced driver volume and receivable piece reached cost_lines.
with
    expected as (
        select 'service_logs' as source_name, count(*) as n
        from {{ ref("stg_erp__service_logs") }}
        union all
        select 'visit_costs', count(*)
        from {{ ref("stg_erp__visit_costs") }}
        union all
        select 'marketing_bookings', count(*)
        from {{ ref("stg_erp__marketing_bookings") }}
        union all
        select 'activity', count(*)
        from {{ ref("int_activity_cost_lines") }}
    ),
    actual as (
        select
            case when allocation = 'direct' then source_name else 'activity' end as source_name,
            count(*) as n
        from {{ ref("cost_lines") }}
        group by 1
    )
select *
from expected as e
full join actual as a using (source_name)
where coalesce(e.n, 0) <> coalesce(a.n, 0)
