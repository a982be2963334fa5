{{
    config(
        materialized="incremental",
        incremental_strategy="replace_months",
        on_schema_change="fail",
    )
}}
-- Revenue, cost of goods sold and invoices per account and month: the small monthly aggregate
-- that the account-level models (waterfall, bonus spread, lifecycle, scoring dates) read
-- instead of the invoice lines. Month-partitioned (see macros/scope.sql).
select
    account_id,
    month,
    sum(gross_revenue) as gross_revenue,
    sum(cogs) as cogs,
    count(distinct invoice_number) filter (where document_type = 'invoice') as invoice_count,
    sum(line_count) as line_count
from {{ ref("int_invoice_documents") }}
where {{ in_run_scope("month") }}
group by account_id, month
