-- Relationship costs per account, month and cost category (the cost-to-serve),
-- reporting currency.
-- Sums to key_account_value.relationship_costs per account and month.
select
    l.account_id,
    l.month,
    l.cost_category,
    c.label as cost_category_label,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(sum(l.amount) as decimal(18, 2)) as amount,
    count(*) as cost_line_count
from {{ ref("int_cost_lines") }} as l
left join {{ ref("cost_categories") }} as c using (cost_category)
group by all
order by l.account_id, l.month, any_value(c.sort_order)
