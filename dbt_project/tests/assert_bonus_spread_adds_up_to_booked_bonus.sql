{{ config(meta={"dagster": {"ref": {"name": "int_revenue_deductions_allocated"}}}) }}
-- Each deduction's monthly shares add up exactly to the booked amount (no cent lost to the
-- spread of period bonuses), and every accepted deduction is allocated.
with
    allocated as (
        select deduction_id, sum(amount) as amount
        from {{ ref("int_revenue_deductions_allocated") }}
        group by deduction_id
    )
select d.deduction_id, d.amount, a.amount
from {{ ref("int_revenue_deductions_converted") }} as d
full join allocated as a using (deduction_id)
where d.amount is distinct from a.amount
