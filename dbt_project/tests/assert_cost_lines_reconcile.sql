{{ config(meta={"dagster": {"ref": {"name": "cost_to_serve"}}}) }}
-- One pass over cost_lines (in an incremental run: the months of the run) for three checks:
-- cost_to_serve is exactly its aggregate (same amount and line count for every account, month
-- and category, and no group on one side only); every accepted row of every declared direct
-- cost source (service ticket, visit report, marketing booking, ...) is exactly one cost line;
-- and every priced driver volume and receivable piece (int_activity_cost_lines) is one.
with
    lines as (
        select
            account_id,
            month,
            cost_category,
            case when allocation = 'direct' then source_name else 'activity' end as origin,
            sum(amount) as amount,
            count(*) as n
        from {{ ref("cost_lines") }}
        where {{ in_scope("month") }} and {{ in_scope("cost_date") }}
        group by all
    ),
    groups as (
        select account_id, month, cost_category, sum(amount) as amount, sum(n) as n
        from lines
        group by all
    ),
    cts as (select * from {{ ref("cost_to_serve") }} where {{ in_scope("month") }}),
    origins as (select origin, sum(n) as n from lines group by all),
    expected as (
        {% for s in kam_cost_sources() if s.allocation == "direct" %}
            select '{{ s.name }}' as origin, {{ count_rows("cost_date") }} as n
            from {{ ref(s.model) }}
            where {{ in_scope("cost_date") }}
            union all
        {% endfor %}
        select 'activity', {{ count_rows("month") }}
        from {{ ref("int_activity_cost_lines") }}
        where {{ in_scope("month") }} and {{ in_scope("cost_date") }}
    )
select
    'cost_to_serve is not the aggregate of cost_lines' as problem,
    account_id,
    month,
    cost_category,
    c.amount as expected_amount,
    g.amount as amount,
    c.cost_line_count as expected_lines,
    g.n as lines
from cts as c
full join groups as g using (account_id, month, cost_category)
where c.amount is distinct from g.amount or c.cost_line_count is distinct from g.n
union all
select 'cost lines from ' || origin, null, null, null, null, null, e.n, o.n
from expected as e
full join origins as o using (origin)
where coalesce(e.n, 0) <> coalesce(o.n, 0)
