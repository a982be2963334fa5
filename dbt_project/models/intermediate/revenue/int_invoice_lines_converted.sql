-- One row per accepted invoice line, signed (credit notes negative) and in the
-- reporting currency.
with
    lines as (
        select *, case when document_type = 'credit_note' then -1 else 1 end as sign
        from {{ ref("stg_erp__invoice_lines") }}
    )

select
    l.invoice_number,
    l.line_number,
    l.document_type,
    l.invoice_date,
    cast(date_trunc('month', l.invoice_date) as date) as month,
    a.account_id,
    l.customer_id,
    l.product_id,
    l.quantity * l.sign as quantity,
    l.currency,
    fx.rate as fx_rate,
    l.sign * {{ money("l.quantity * l.unit_price") }} as revenue_document_currency,
    l.sign * {{ to_reporting("l.quantity * l.unit_price") }} as gross_revenue,
    l.sign * {{ to_reporting("l.quantity * l.standard_cost_per_unit") }} as cogs,
    l.due_date,
    l.payment_date,
    l.source_file,
    l.source_row
from lines as l
left join
    {{ ref("int_customer_accounts") }} as a on l.customer_id = a.customer_id
    {{ fx_join("l", "currency", "invoice_date") }}
