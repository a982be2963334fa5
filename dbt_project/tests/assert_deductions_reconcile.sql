{{ config(meta={"dagster": {"ref": {"name": "key_account_value"}}}) }}
-- Revenue deductions in the mart equal the sum over all accepted deduction rows.
select m.total, d.total
from
    (select sum(revenue_deductions) as total from {{ ref("key_account_value") }}) as m,
    (select sum(amount) as total from {{ ref("int_revenue_deductions_converted") }}) as d
where
    m.total is distinct from d.total
    and not (m.total is null and d.total = 0)
    and not (d.total is null and m.total = 0)
