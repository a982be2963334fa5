{{
    config(
        materialized="incremental",
        incremental_strategy="replace_months",
        on_schema_change="fail",
    )
}}
-- Relationship costs per account, month and cost category (the cost-to-serve),
-- reporting currency: exactly the aggregate of cost_lines.
-- Sums to key_account_value.relationship_costs per account and month.
-- Month-partitioned: an incremental run recomputes only its months (see macros/scope.sql).
select
    l.account_id,
    l.month,
    l.cost_category,
    any_value(l.cost_category_label) as cost_category_label,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(sum(l.amount) as decimal(18, 2)) as amount,
    -- 0, not null, for a category without a part of that kind: the parts are sums
    cast(
        coalesce(sum(l.amount) filter (where l.allocation = 'direct'), 0) as decimal(18, 2)
    ) as direct_amount,
    cast(
        coalesce(sum(l.amount) filter (where l.allocation = 'activity'), 0) as decimal(18, 2)
    ) as allocated_amount,
    count(*) as cost_line_count
from {{ ref("cost_lines") }} as l
-- the month reaches the receivable calendar, the date the sources' dates (row groups skipped)
where {{ in_run_scope("l.month") }} and {{ in_run_scope("l.cost_date") }}
group by l.account_id, l.month, l.cost_category
