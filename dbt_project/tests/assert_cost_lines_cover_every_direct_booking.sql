{{ config(meta={"dagster": {"ref": {"name": "cost_lines"}}}) }}
-- Every accepted row of every declared direct cost source (service ticket, visit report,
-- marketing booking, ...) is exactly one cost line, and every priced driver volume and
-- receivable piece reached cost_lines.
with
    expected as (
        {% for s in kam_cost_sources() if s.allocation == "direct" %}
            select '{{ s.name }}' as source_name, count(*) as n
            from {{ ref(s.model) }}
            union all
        {% endfor %}
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
