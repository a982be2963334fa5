-- Driver volumes of time-driven activity-based costing: one row per driver occurrence (an
-- invoice document, a shipment, a quote) with the date that selects the rate and the raw row it
-- comes from. Receivables (financing) are interval drivers: see int_financing_drivers.
-- Declared driver-based cost sources (sources/*.yml, cost.allocation with an activity) add their
-- rows through their generated staging models stg_cost__<source>.
-- A view: cost_lines prices it once per run (only the run's months), and its tests and the
-- check driver_volumes_priced read it filtered by month, which DuckDB pushes into the scans.
with
    -- One row per document (a document whose lines differ in due or payment date has several
    -- rows in int_invoice_documents). Not materialized: read by three branches, and DuckDB
    -- would otherwise write it out in full before any branch runs (4x slower at 10M lines).
    documents as not materialized(
        select
            invoice_number,
            document_type,
            invoice_date,
            customer_id,
            line_count,
            {'file':source_file, 'row':source_row} as first_line
        from {{ ref("int_invoice_documents") }}
        where document_rows = 1
        union all
        select
            invoice_number,
            document_type,
            invoice_date,
            customer_id,
            cast(sum(line_count) as bigint),
            min({'file':source_file, 'row':source_row})
        from {{ ref("int_invoice_documents") }}
        where document_rows > 1
        group by invoice_number, document_type, invoice_date, customer_id
    ),

    volumes as (
        select
            'orders' as driver,
            invoice_date as activity_date,
            customer_id,
            1 as quantity,
            'invoice_lines' as source_name,
            invoice_number as source_id,
            first_line.file as source_file,
            first_line.row as source_row,
            'invoice ' || invoice_number || ': 1 order' as detail
        from documents
        where document_type = 'invoice'

        union all

        select
            'order_lines',
            invoice_date,
            customer_id,
            line_count,
            'invoice_lines',
            invoice_number,
            first_line.file,
            first_line.row,
            'invoice ' || invoice_number || ': ' || line_count || ' order line(s)'
        from documents
        where document_type = 'invoice'

        union all

        select
            'credit_notes',
            invoice_date,
            customer_id,
            1,
            'invoice_lines',
            invoice_number,
            first_line.file,
            first_line.row,
            'credit note ' || invoice_number || ' (' || line_count || ' line(s))'
        from documents
        where document_type = 'credit_note'

        union all

        select
            'shipments',
            ship_date,
            customer_id,
            1,
            'shipments',
            shipment_id,
            source_file,
            source_row,
            'shipment ' || shipment_id || coalesce(' for invoice ' || invoice_number, '')
        from {{ ref("stg_erp__shipments") }}

        union all

        select
            'express_shipments',
            ship_date,
            customer_id,
            1,
            'shipments',
            shipment_id,
            source_file,
            source_row,
            'express shipment ' || shipment_id
        from {{ ref("stg_erp__shipments") }}
        where service_level = 'express'

        union all

        select
            'shipped_kg',
            ship_date,
            customer_id,
            weight_kg,
            'shipments',
            shipment_id,
            source_file,
            source_row,
            'shipment ' || shipment_id || ': ' || weight_kg || ' kg shipped'
        from {{ ref("stg_erp__shipments") }}

        union all

        select
            case quote_type when 'tender' then 'tender_hours' else 'quote_hours' end,
            quote_date,
            customer_id,
            hours,
            'quotations',
            quote_id,
            source_file,
            source_row,
            quote_type
            || ' '
            || quote_id
            || ': '
            || hours
            || ' h'
            || coalesce(' - ' || description, '')
        from {{ ref("stg_erp__quotations") }}
    ),

    -- by position (not BY NAME), so that DuckDB prunes the columns a reader does not select
    all_volumes as (
        select *, cast(null as varchar) as account_id
        from volumes
        {% for s in kam_cost_sources() if s.allocation == "activity" %}
            union all
            select
                driver,
                cost_date as activity_date,
                customer_id,
                quantity,
                source_name,
                source_id,
                source_file,
                source_row,
                detail,
                account_id
            from {{ ref(s.model) }}
        {% endfor %}
    )

select
    v.driver,
    coalesce(a.account_id, v.account_id) as account_id,
    v.customer_id,
    v.activity_date,
    cast(date_trunc('month', v.activity_date) as date) as month,
    cast(v.quantity as decimal(24, 6)) as quantity,
    v.source_name,
    v.source_id,
    v.source_file,
    v.source_row,
    v.detail
from all_volumes as v
left join {{ ref("int_customer_accounts") }} as a on v.customer_id = a.customer_id
-- no volume, nothing to price (e.g. a quote logged with 0 hours)
where v.quantity > 0
