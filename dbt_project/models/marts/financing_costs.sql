-- Financing cost per account and month, reporting currency: the cost of the granted payment
-- terms (receivables within their due date) shown apart from late payment (past the due date).
-- Receivable x days outstanding x annual rate / 365, per day at the rate valid on that day.
-- financing_cost equals the financing category of cost_to_serve.
-- Month-partitioned: an incremental run recomputes only its months (see macros/scope.sql).
{{
    config(
        materialized="incremental",
        incremental_strategy="replace_months",
        on_schema_change="fail",
    )
}}
select
    account_id,
    month,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(
        coalesce(sum(amount) filter (where driver = 'receivable_years_in_terms'), 0) as decimal(
            18, 2
        )
    ) as payment_terms_cost,
    cast(
        coalesce(sum(amount) filter (where driver = 'receivable_years_late'), 0) as decimal(18, 2)
    ) as late_payment_cost,
    cast(sum(amount) as decimal(18, 2)) as financing_cost,
    cast(
        coalesce(sum(driver_quantity) filter (where driver = 'receivable_years_in_terms'), 0)
        * 365 as decimal(24, 2)
    ) as receivable_days_in_terms,
    cast(
        coalesce(sum(driver_quantity) filter (where driver = 'receivable_years_late'), 0)
        * 365 as decimal(24, 2)
    ) as receivable_days_late,
    count(distinct source_id) as invoices,
    count(distinct source_id) filter (where driver = 'receivable_years_late') as invoices_late,
    count(*) as cost_line_count
from {{ ref("cost_lines") }}
where cost_category = 'financing' and {{ in_run_scope("month") }}
group by account_id, month
