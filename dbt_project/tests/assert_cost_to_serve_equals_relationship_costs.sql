{{ config(meta={"dagster": {"ref": {"name": "cost_to_serve"}}}) }}
-- Per account and month, the cost-to-serve categories add up to relationship_costs exactly
-- (every cost line is counted once: assert_cost_lines_reconcile).
with
    cts as (
        select account_id, month, sum(amount) as amount from {{ ref("cost_to_serve") }} group by all
    )
select k.account_id, k.month, k.relationship_costs, cts.amount
from {{ ref("key_account_value") }} as k
full join cts using (account_id, month)
where coalesce(k.relationship_costs, 0) <> coalesce(cts.amount, 0)
