{{ config(meta={"dagster": {"ref": {"name": "key_account_value"}}}) }}
-- Gross revenue and COGS in the mart equal the sum over all accepted invoice lines,
-- to the cent.
with
    mart as (
        select sum(gross_revenue) as revenue, sum(cogs) as cogs from {{ ref("key_account_value") }}
    ),
    lines as (
        select sum(gross_revenue) as revenue, sum(cogs) as cogs, count(*) as n
        from {{ ref("int_invoice_lines_converted") }}
    ),
    staged as (select count(*) as n from {{ ref("stg_erp__invoice_lines") }})
select *
from mart, lines, staged
where
    mart.revenue is distinct from lines.revenue
    or mart.cogs is distinct from lines.cogs
    or lines.n <> staged.n
