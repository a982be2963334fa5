-- Financing cost per account and month, reporting currency: the cost of the granted payment
-- terms (receivables within their due date) shown apart from late payment (past the due date).
-- Receivable x days outstanding x annual rate / 365, per day at the rate valid on that day.
-- financing_cost equals the financing category of cost_to_serve.
-- Month-partitioned: an incremental run recomputes only its months (see macros/scope.sql).
-- Read from the financing lines themselves rather than all of cost_lines, and the invoices
-- counted from the receivable pieces: counting distinct invoice numbers over every line would
-- group millions of (account, month, invoice) keys.
{{
    config(
        materialized="incremental",
        incremental_strategy="replace_months",
        on_schema_change="fail",
    )
}}
with
    -- the lines of cost_lines with cost category financing: receivables priced by a financing
    -- activity, any other driver volume priced by one (none in the shipped catalogue: DuckDB
    -- then reads no volume), and direct bookings in the category
    lines as not materialized(
        select account_id, month, driver, driver_quantity, amount, source_id, allocation
        from {{ ref("int_activity_cost_lines") }}
        where
            driver in ('receivable_years_in_terms', 'receivable_years_late')
            and cost_category = 'financing'
            and {{ in_run_scope("month") }}
            and {{ in_run_scope("cost_date") }}
        union all
        select account_id, month, driver, driver_quantity, amount, source_id, allocation
        from {{ ref("int_activity_cost_lines") }}
        where
            driver not in ('receivable_years_in_terms', 'receivable_years_late')
            and cost_category = 'financing'
            and {{ in_run_scope("month") }}
            and {{ in_run_scope("cost_date") }}
        union all
        select
            account_id,
            month,
            null as driver,
            null as driver_quantity,
            amount,
            source_id,
            allocation
        from {{ ref("int_direct_cost_lines") }}
        where
            cost_category = 'financing'
            and {{ in_run_scope("month") }}
            and {{ in_run_scope("cost_date") }}
    ),

    sums as (
        select
            account_id,
            month,
            sum(amount) filter (where driver = 'receivable_years_in_terms') as payment_terms_cost,
            sum(amount) filter (where driver = 'receivable_years_late') as late_payment_cost,
            sum(amount) as financing_cost,
            sum(driver_quantity) filter (
                where driver = 'receivable_years_in_terms'
            ) as receivable_years_in_terms,
            sum(driver_quantity) filter (
                where driver = 'receivable_years_late'
            ) as receivable_years_late,
            count(*) as cost_line_count
        from lines
        group by account_id, month
    ),

    -- Invoices with a financing line in the month = invoices with a receivable piece in it (every
    -- piece is priced, or the refresh stops at driver_volumes_priced). An invoice has at most one
    -- piece per component and month; its late piece has a within-terms sibling in the same
    -- month exactly when the due date falls after the month's first outstanding day.
    invoices as (
        select
            account_id,
            month,
            count(*) filter (
                where
                    driver = 'receivable_years_in_terms'
                    or not due_date > greatest(invoice_date, month)
            ) as invoices,
            count(*) filter (where driver = 'receivable_years_late') as invoices_late
        from {{ ref("int_financing_drivers") }}
        where {{ in_run_scope("month") }}
        group by account_id, month
    ),

    -- bookings with the category count by their own ids, unless one is also the number of an
    -- invoice outstanding for the account in the month (an inner join: with no such booking,
    -- DuckDB never reads a receivable piece)
    booking_ids as (
        select distinct account_id, month, source_id from lines where allocation = 'direct'
    ),

    booked_invoices as (
        select distinct b.account_id, b.month, b.source_id
        from booking_ids as b
        inner join
            {{ ref("int_financing_drivers") }} as f
            on f.account_id = b.account_id
            and f.month = b.month
            and f.invoice_number = b.source_id
    ),

    bookings as (
        select b.account_id, b.month, count(*) filter (where o.source_id is null) as invoices
        from booking_ids as b
        left join
            booked_invoices as o
            on o.account_id = b.account_id
            and o.month = b.month
            and o.source_id = b.source_id
        group by b.account_id, b.month
    )

select
    s.account_id,
    s.month,
    '{{ var("reporting_currency") }}' as reporting_currency,
    cast(coalesce(s.payment_terms_cost, 0) as decimal(18, 2)) as payment_terms_cost,
    cast(coalesce(s.late_payment_cost, 0) as decimal(18, 2)) as late_payment_cost,
    cast(s.financing_cost as decimal(18, 2)) as financing_cost,
    cast(
        coalesce(s.receivable_years_in_terms, 0) * 365 as decimal(24, 2)
    ) as receivable_days_in_terms,
    cast(coalesce(s.receivable_years_late, 0) * 365 as decimal(24, 2)) as receivable_days_late,
    coalesce(i.invoices, 0) + coalesce(b.invoices, 0) as invoices,
    coalesce(i.invoices_late, 0) as invoices_late,
    s.cost_line_count
from sums as s
left join invoices as i using (account_id, month)
left join bookings as b using (account_id, month)
