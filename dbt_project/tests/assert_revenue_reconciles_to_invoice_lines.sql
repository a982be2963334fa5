{{ config(meta={"dagster": {"ref": {"name": "key_account_value"}}}) }}
-- Gross revenue and COGS in the mart equal the sum over the accepted invoice lines to the
-- cent, month by month, and no staged line is lost on the way (in an incremental run: the
-- months of the run).
with
    mart as (
        select month, sum(gross_revenue) as revenue, sum(cogs) as cogs
        from {{ ref("key_account_value") }}
        where {{ in_scope("month") }}
        group by month
    ),
    lines as (
        select month, sum(gross_revenue) as revenue, sum(cogs) as cogs, count(*) as n
        from {{ ref("int_invoice_lines_converted") }}
        where {{ in_scope("month") }} and {{ in_scope("invoice_date") }}
        group by month
    ),
    staged as (
        select {{ count_rows("invoice_date") }} as n
        from {{ ref("stg_erp__invoice_lines") }}
        where {{ in_scope("invoice_date") }}
    )
select 'month ' || month as problem, mart.revenue, lines.revenue, mart.cogs, lines.cogs
from mart
full join lines using (month)
where
    coalesce(mart.revenue, 0) <> coalesce(lines.revenue, 0)
    or coalesce(mart.cogs, 0) <> coalesce(lines.cogs, 0)
union all
select 'converted lines vs staged lines', converted.n, staged.n, null, null
from staged
cross join (select coalesce(sum(n), 0) as n from lines) as converted
where converted.n <> staged.n
