{{
    config(
        materialized="incremental",
        incremental_strategy="replace_months",
        on_schema_change="fail",
    )
}}
-- One row per document (invoice or credit note) and set of terms, in the reporting currency:
-- the line-level work (conversion, signs) done once, read by the driver volumes, the
-- receivables, the monthly revenue and the scoring. Lines of a document that differ in
-- customer, date, due date or payment date (never in the ERP exports) stay separate rows, as
-- each reader used to group them. Month-partitioned by the invoice month (see macros/scope.sql).
with
    documents as (
        select
            invoice_number,
            document_type,
            invoice_date,
            month,
            account_id,
            customer_id,
            due_date,
            payment_date,
            count(*) as line_count,
            cast(sum(gross_revenue) as decimal(18, 2)) as gross_revenue,
            cast(sum(cogs) as decimal(18, 2)) as cogs,
            -- the document's first line (file, then row): where its driver volume and
            -- receivable point to
            min({'file':source_file, 'row':source_row}) as first_line
        from {{ ref("int_invoice_lines_converted") }}
        where {{ in_run_scope("invoice_date") }}
        group by
            invoice_number,
            document_type,
            invoice_date,
            month,
            account_id,
            customer_id,
            due_date,
            payment_date
    )

select
    invoice_number,
    document_type,
    invoice_date,
    month,
    account_id,
    customer_id,
    due_date,
    payment_date,
    line_count,
    gross_revenue,
    cogs,
    first_line.file as source_file,
    first_line.row as source_row,
    -- rows of the same document (1 unless its lines differ in due or payment date): the
    -- driver volumes regroup only those
    count(*) over (
        partition by invoice_number, document_type, invoice_date, customer_id
    ) as document_rows
from documents
