-- Relationship costs per account, month and cost category (the cost-to-serve),
-- reporting currency: exactly the aggregate of cost_lines.
-- Sums to key_account_value.relationship_costs per account and month.
select
    l.account_id,
    l.month,
    l.cost_category,
    any_value(l.cost_category_label) as cost_category_label,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(sum(l.amount) as decimal(18, 2)) as amount,
    cast(sum(l.amount) filter (where l.allocation = 'direct') as decimal(18, 2)) as direct_amount,
    cast(
        sum(l.amount) filter (where l.allocation = 'activity') as decimal(18, 2)
    ) as allocated_amount,
    count(*) as cost_line_count
from {{ ref("cost_lines") }} as l
left join {{ ref("cost_categories") }} as c using (cost_category)
group by l.account_id, l.month, l.cost_category
order by l.account_id, l.month, any_value(c.sort_order)
