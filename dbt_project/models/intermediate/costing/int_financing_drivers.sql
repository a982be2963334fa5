-- Receivables outstanding, the driver of financing costs: one row per invoice, component and
-- month. An invoice is a receivable from its invoice date until it is paid (or until the as-of
-- date, var as_of_date, while open). Days before the due date are the cost of the granted
-- payment terms (driver receivable_years_in_terms), days after it are late payment
-- (receivable_years_late). Each interval [start, end) is cut at month ends: a day belongs to
-- its month. Credit notes are not financed (they are settled against open items).
-- A view over int_invoice_documents: the pieces of a month come from joining the periods with
-- the calendar month, so a filter on `month` (cost_lines in an incremental run, the tests)
-- reaches the calendar and only the run's months are cut.
with
    as_of as (select {{ as_of_date_sql(ref("int_invoice_documents")) }} as as_of_date),

    settled as (
        select
            d.invoice_number,
            d.account_id,
            d.customer_id,
            d.invoice_date,
            d.due_date,
            d.payment_date,
            d.gross_revenue as receivable,
            d.source_file,
            d.source_row,
            a.as_of_date,
            least(coalesce(d.payment_date, a.as_of_date), a.as_of_date) as settled_date
        from {{ ref("int_invoice_documents") }} as d
        cross join as_of as a
        where d.document_type = 'invoice' and d.gross_revenue > 0
    ),

    periods as (
        select
            s.*,
            k.driver,
            case
                when k.driver = 'receivable_years_in_terms'
                then s.invoice_date
                else greatest(s.due_date, s.invoice_date)
            end as period_start,
            case
                when k.driver = 'receivable_years_in_terms'
                then least(s.due_date, s.settled_date)
                else s.settled_date
            end as period_end
        from settled as s
        cross join (values ('receivable_years_in_terms'), ('receivable_years_late')) as k(driver)
    ),

    -- every month a receivable can be outstanding in: from the first invoice to the as-of date
    calendar as (
        select
            cast(
                unnest(
                    generate_series(
                        cast(date_trunc('month', min(d.invoice_date)) as timestamp),
                        cast(date_trunc('month', any_value(a.as_of_date) - 1) as timestamp),
                        interval 1 month
                    )
                ) as date
            ) as month
        from {{ ref("int_invoice_documents") }} as d
        cross join as_of as a
        where d.document_type = 'invoice'
    ),

    pieces as (
        select
            p.*,
            c.month,
            greatest(p.period_start, c.month) as piece_start,
            least(p.period_end, cast(c.month + interval 1 month as date)) as piece_end
        from periods as p
        inner join
            calendar as c
            on c.month < p.period_end
            and cast(c.month + interval 1 month as date) > p.period_start
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
    payment_date is null or payment_date > as_of_date as is_open,
    'invoice_lines' as source_name,
    invoice_number as source_id,
    source_file,
    source_row
from pieces
