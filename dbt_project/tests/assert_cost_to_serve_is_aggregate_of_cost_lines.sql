{{ config(meta={"dagster": {"ref": {"name": "cost_to_serve"}}}) }}
-- cost_to_serve is exactly the aggregate of cost_lines: same amount and line count for every
-- account, month and category, and no group on one side only.
with
    lines as (
        select account_id, month, cost_category, sum(amount) as amount, count(*) as n
        from {{ ref("cost_lines") }}
        group by account_id, month, cost_category
    )
select account_id, month, cost_category, c.amount, l.amount, c.cost_line_count, l.n
from {{ ref("cost_to_serve") }} as c
full join lines as l using (account_id, month, cost_category)
where c.amount is distinct from l.amount or c.cost_line_count is distinct from l.n
