{{ config(materialized="table") }}
-- Receivables outstanding, the driver of financing costs: one row per invoice, component and
-- month. An invoice is a receivable from its invoice date until it is paid (or until the as-of
-- date, var as_of_date, while open). Days before the due date are the cost of the granted
-- payment terms (driver receivable_years_in_terms), days after it are late payment
-- (receivable_years_late). Each interval [start, end) is cut at month ends: a day belongs to
-- its month. Credit notes are not financed (they are settled against open items).
with
    invoices as (
        select
            invoice_number,
            account_id,
            customer_id,
            invoice_date,
            due_date,
            payment_date,
            sum(gross_revenue) as receivable,
            first(source_file order by source_file, source_row) as source_file,
            first(source_row order by source_file, source_row) as source_row
        from {{ ref("int_invoice_lines_converted") }}
        where document_type = 'invoice'
        group by invoice_number, account_id, customer_id, invoice_date, due_date, payment_date
    ),

    settled as (
        select
            i.*,
            a.as_of_date,
            least(coalesce(i.payment_date, a.as_of_date), a.as_of_date) as settled_date
        from invoices as i
        cross join (select {{ as_of_date_sql(ref("stg_erp__invoice_lines")) }} as as_of_date) as a
        where i.receivable > 0
    ),

    periods as (
        select
            *,
            'receivable_years_in_terms' as driver,
            invoice_date as period_start,
            least(due_date, settled_date) as period_end
        from settled

        union all

        select
            *,
            'receivable_years_late' as driver,
            greatest(due_date, invoice_date) as period_start,
            settled_date as period_end
        from settled
    ),

    pieces as (
        select
            p.*,
            cast(m.month_start as date) as month,
            greatest(p.period_start, cast(m.month_start as date)) as piece_start,
            least(p.period_end, cast(m.month_start + interval 1 month as date)) as piece_end
        from periods as p
        cross join
            unnest(
                generate_series(
                    cast(date_trunc('month', p.period_start) as timestamp),
                    cast(p.period_end - 1 as timestamp),
                    interval 1 month
                )
            ) as m(month_start)
        where p.period_end > p.period_start
    )

select
    driver,
    account_id,
    customer_id,
    month,
    piece_start,
    piece_end,
    piece_end - piece_start as days,
    receivable,
    invoice_number,
    invoice_date,
    due_date,
    payment_date,
    as_of_date,
    payment_date is null or payment_date > as_of_date as is_open,
    'invoice_lines' as source_name,
    invoice_number as source_id,
    source_file,
    source_row
from pieces
