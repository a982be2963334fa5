{{ config(meta={"dagster": {"ref": {"name": "financing_costs"}}}) }}
-- financing_costs per account and month equals the financing category of cost_to_serve.
with
    cts as (
        select account_id, month, amount
        from {{ ref("cost_to_serve") }}
        where cost_category = 'financing'
    )
select account_id, month, f.financing_cost, cts.amount
from {{ ref("financing_costs") }} as f
full join cts using (account_id, month)
where f.financing_cost is distinct from cts.amount
