-- Bare DuckDB baseline, the fair floor ("bare DuckDB (fair floor)"): what a user of the product
-- gets at minimum, straight from the raw German CSV files (and the activity catalogue
-- config/activity_rates.csv, the cost category labels of the dbt seed), in one script:
-- key_account_value, cost_to_serve and their drill-down cost_lines, as Parquet in the layout of a
-- publication (data/published/current/): key_account_value.parquet, and one file per month of
-- cost_to_serve and cost_lines, with the columns and types the product publishes, the lineage of
-- every cost line (its raw file and row, its catalogue row) and its detail text included.
-- No orchestration, no validation or quarantine, no tests, no serving DuckDB file, no other mart:
-- the floor the pipeline is measured against. It computes what the dbt models compute (see
-- dbt_project/models):
-- - revenue and COGS: quantity x price rounded to the cent in the document currency, converted
--   at the latest rate on or before the date and rounded again; credit notes negative;
-- - deductions in the reporting currency; period bonuses spread over the months of their period
--   in proportion to net revenue before bonuses, largest-remainder in integer cents;
-- - direct costs of the declared cost sources (service logs, visits, marketing bookings: each
--   term of the amount rounded to the cent);
-- - driver-based costs: orders, order lines, credit notes, shipments, express shipments, shipped
--   kg, quote and tender hours x the catalogue rate valid on the activity date;
-- - financing: receivable x days / 365 (in integer micro-units) x the annual rate, within terms
--   and late, cut at month ends and rate changes, open invoices until the latest data date.
-- The cost lines are priced once, written, and cost_to_serve is read back from their files.
--
-- Inputs (DuckDB variables): raw_dir (folder holding <source>/*.csv), rates_file (the activity
-- catalogue CSV) and rates_source_file (its name in the cost lines), categories_file (the seed
-- cost_categories.csv), reporting_currency, as_of_date (NULL: the latest date in the data),
-- out_dir. The month files are written as out_dir/<mart>/month=<YYYY-MM-01>/data_0.parquet;
-- bench/bare_duckdb.py, which runs this script, renames them to out_dir/<mart>/<YYYY-MM>.parquet.
-- The two-mart variant, the floor of the earlier runs, is bench/bare_duckdb_2marts.sql.
create or replace temp macro money(x) as cast(round(x, 2) as decimal(18, 2))
;
create or replace temp macro receivable_years(amount, days) as cast(
    cast(divide(2 * cast(round(amount * 100) as hugeint) * days * 10000 + 365, 730) as decimal(38, 0))
    * 0.000001 as decimal(24, 6)
)
;
-- The rows of a raw source, typed, with the key of their file and their number `o` among all the
-- rows read (DuckDB counts across the files in their glob order, so a file's rows are
-- o = first .. first + n - 1): the raw file and data row every cost line points to.
create or replace temp macro raw_csv(source, cols) as table
select hash(filename) as file_key, ordinality as o, * exclude (filename, ordinality)
from
    read_csv(
        getvariable('raw_dir') || '/' || source || '/*.csv',
        delim = ';', header = true, decimal_separator = ',', thousands = '.',
        dateformat = '%d.%m.%Y', columns = cols, filename = true
    ) with ordinality
;

create or replace temp table fx as
select rate_date, from_currency as currency, rate
from
    read_csv(
        getvariable('raw_dir') || '/exchange_rates/*.csv',
        delim = ';', header = true, decimal_separator = ',', thousands = '.',
        dateformat = '%d.%m.%Y',
        columns = {'rate_date': 'DATE', 'from_currency': 'VARCHAR', 'to_currency': 'VARCHAR',
                   'rate': 'DECIMAL(18,6)'}
    )
where to_currency = getvariable('reporting_currency')
union all
select date '1900-01-01', getvariable('reporting_currency'), cast(1 as decimal(18, 6))
;

-- The rate of every currency on every day from its first rate on (the latest rate on or before
-- the day, as int_fx_daily): conversions are hash joins on (currency, day), not ASOF joins that
-- would sort the wide rows they convert.
create or replace temp table fx_daily as
with
    days as (
        select
            currency,
            cast(unnest(generate_series(min(rate_date), date '2099-12-31', interval 1 day)) as date)
                as day
        from fx
        group by currency
    )
select d.currency, d.day, r.rate
from days as d
asof join fx as r on r.currency = d.currency and d.day >= r.rate_date
;

-- Customers are exported in Windows-1252; their ids are ASCII, read as Latin-1.
create or replace temp table accounts as
select customer_id, coalesce(customer_group_id, customer_id) as account_id
from
    read_csv(
        getvariable('raw_dir') || '/customers/*.csv',
        delim = ';', header = true, encoding = 'latin-1', all_varchar = true
    )
;

-- One pass over the invoice lines, two groupings: the documents (one row per document and terms,
-- in the reporting currency, with the number of their first line, as int_invoice_documents) and
-- the first line number of every file (file_row), which turns a line number into a row of its
-- file. The lines themselves are never stored.
create or replace temp table invoice_scan as
select
    grouping(file_key) = 0 as file_row,
    file_key,
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
    min(o) as first_o,
    arg_min(file_key, o) as first_file
from (
    select
        l.file_key,
        l.o,
        l.invoice_number,
        l.document_type,
        l.invoice_date,
        cast(date_trunc('month', l.invoice_date) as date) as month,
        a.account_id,
        l.customer_id,
        l.due_date,
        l.payment_date,
        l.sign * money(money(l.quantity * l.unit_price) * fx.rate) as gross_revenue,
        l.sign * money(money(l.quantity * l.standard_cost_per_unit) * fx.rate) as cogs
    from
        (
            select *, case when document_type = 'credit_note' then -1 else 1 end as sign
            from raw_csv('invoice_lines', {
                'invoice_number': 'VARCHAR', 'line_number': 'BIGINT', 'invoice_date': 'DATE',
                'customer_id': 'VARCHAR', 'product_id': 'VARCHAR',
                'quantity': 'DECIMAL(18,3)', 'unit_price': 'DECIMAL(18,4)',
                'currency': 'VARCHAR', 'document_type': 'VARCHAR',
                'standard_cost_per_unit': 'DECIMAL(18,4)', 'due_date': 'DATE',
                'payment_date': 'DATE'
            })
        ) as l
    join accounts as a using (customer_id)
    join fx_daily as fx on fx.currency = l.currency and fx.day = l.invoice_date
)
group by grouping sets (
    (invoice_number, document_type, invoice_date, month, account_id, customer_id, due_date,
     payment_date),
    (file_key)
)
;

create or replace temp table documents as
select * exclude (file_row, file_key) from invoice_scan where not file_row
;

create or replace temp table revenue as
select account_id, month, sum(gross_revenue) as gross_revenue, sum(cogs) as cogs
from documents
group by all
;

set variable as_of_date = coalesce(
    getvariable('as_of_date'),
    (select max(greatest(invoice_date, coalesce(payment_date, invoice_date))) from documents)
)
;

-- Deductions in the reporting currency, then period bonuses spread by net revenue.
create or replace temp table deductions as
select
    d.deduction_id,
    d.deduction_type,
    a.account_id,
    cast(date_trunc('month', d.booking_date) as date) as month,
    d.period_start,
    d.period_end,
    money(money(d.amount) * fx.rate) as amount
from
    read_csv(
        getvariable('raw_dir') || '/deductions/*.csv',
        delim = ';', header = true, decimal_separator = ',', thousands = '.',
        dateformat = '%d.%m.%Y',
        columns = {
            'deduction_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'booking_date': 'DATE',
            'deduction_type': 'VARCHAR', 'amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR',
            'invoice_number': 'VARCHAR', 'period_start': 'DATE', 'period_end': 'DATE'
        }
    ) as d
join accounts as a using (customer_id)
join fx_daily as fx on fx.currency = d.currency and fx.day = d.booking_date
;

create or replace temp table deductions_by_month as
with
    other as (
        select account_id, month, sum(amount) as amount
        from deductions where deduction_type <> 'bonus' group by all
    ),
    net_revenue as (
        select account_id, month,
               coalesce(r.gross_revenue, 0) - coalesce(o.amount, 0) as net_before_bonuses
        from revenue as r full join other as o using (account_id, month)
    ),
    bonus_months as (
        select
            b.deduction_id,
            cast(m.month_start as date) as month,
            cast(round(b.amount * 100) as hugeint) as bonus_cents,
            greatest(cast(round(coalesce(n.net_before_bonuses, 0) * 100) as hugeint), 0) as weight
        from deductions as b
        cross join unnest(generate_series(
            cast(date_trunc('month', b.period_start) as timestamp),
            cast(date_trunc('month', b.period_end) as timestamp),
            interval 1 month
        )) as m(month_start)
        left join net_revenue as n
            on n.account_id = b.account_id and n.month = cast(m.month_start as date)
        where b.deduction_type = 'bonus' and b.period_start is not null
          and b.period_end >= b.period_start
    ),
    shares as (
        select *,
               divide(abs(bonus_cents) * weight, total_weight) as floor_cents,
               mod(abs(bonus_cents) * weight, total_weight) as remainder
        from (select *, sum(weight) over (partition by deduction_id) as total_weight
              from bonus_months)
        where total_weight > 0
    ),
    ranked as (
        select *,
               abs(bonus_cents) - sum(floor_cents) over (partition by deduction_id) as leftover,
               row_number() over (partition by deduction_id order by remainder desc, month) as rnk
        from shares
    ),
    spread as (
        select deduction_id, month,
               cast(cast((case when bonus_cents < 0 then -1 else 1 end)
                         * (floor_cents + case when rnk <= leftover then 1 else 0 end)
                         as decimal(38, 0)) * 0.01 as decimal(18, 2)) as amount
        from ranked
    )
select d.account_id, s.month, d.deduction_type, s.amount
from spread as s join deductions as d using (deduction_id)
where s.amount <> 0
union all
select account_id, month, deduction_type, amount
from deductions
where deduction_id not in (select deduction_id from spread)
;

-- Direct bookings of the declared cost sources, in their document currency, with the detail
-- text the generated staging models stg_cost__<source> give them.
create or replace temp table bookings as
select
    file_key, o, 'service_logs' as source_name, ticket_id as source_id, customer_id,
    service_date as cost_date, cost_category, currency,
    cast(round(hours * hourly_rate, 2) + round(coalesce(material_amount, 0), 2)
         as decimal(18, 2)) as amount,
    'ticket ' || coalesce(ticket_id, '') || ': ' || coalesce(cast(hours as varchar), '')
    || ' h x ' || coalesce(cast(hourly_rate as varchar), '')
    || coalesce(' + material ' || cast(material_amount as varchar), '') || ' '
    || coalesce(currency, '') || coalesce(' - ' || description, '') as detail
from raw_csv('service_logs', {
    'ticket_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'service_date': 'DATE',
    'cost_category': 'VARCHAR', 'hours': 'DECIMAL(10,2)', 'hourly_rate': 'DECIMAL(12,2)',
    'material_amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR', 'description': 'VARCHAR'
})
union all
select
    file_key, o, 'visit_costs', visit_id, customer_id, visit_date, 'consulting_and_visits',
    currency,
    cast(round(hours * hourly_rate, 2) + round(coalesce(travel_amount, 0), 2)
         + round(coalesce(expense_amount, 0), 2) as decimal(18, 2)),
    'visit ' || coalesce(visit_id, '') || ' by ' || coalesce(employee, '') || ': '
    || coalesce(cast(hours as varchar), '') || ' h x ' || coalesce(cast(hourly_rate as varchar), '')
    || coalesce(' + travel ' || cast(travel_amount as varchar), '')
    || coalesce(' + expenses ' || cast(expense_amount as varchar), '') || ' '
    || coalesce(currency, '') || coalesce(' - ' || purpose, '')
from raw_csv('visit_costs', {
    'visit_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'visit_date': 'DATE',
    'employee': 'VARCHAR', 'purpose': 'VARCHAR', 'hours': 'DECIMAL(10,2)',
    'hourly_rate': 'DECIMAL(12,2)', 'travel_amount': 'DECIMAL(18,2)',
    'expense_amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR'
})
union all
select
    file_key, o, 'marketing_bookings', booking_id, customer_id, booking_date, cost_category,
    currency, cast(round(amount, 2) as decimal(18, 2)),
    'booking ' || coalesce(booking_id, '') || coalesce(': ' || campaign, '')
    || coalesce(' (' || vendor || ')', '')
from raw_csv('marketing_bookings', {
    'booking_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'booking_date': 'DATE',
    'cost_category': 'VARCHAR', 'campaign': 'VARCHAR', 'vendor': 'VARCHAR',
    'amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR'
})
;

create or replace temp table shipments as
select
    file_key, o, shipment_id, customer_id, ship_date, invoice_number, service_level, weight_kg
from raw_csv('shipments', {
    'shipment_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'ship_date': 'DATE',
    'invoice_number': 'VARCHAR', 'service_level': 'VARCHAR', 'packages': 'BIGINT',
    'weight_kg': 'DECIMAL(12,1)', 'carrier': 'VARCHAR'
})
;

create or replace temp table quotations as
select file_key, o, quote_id, customer_id, quote_date, quote_type, hours, description
from raw_csv('quotations', {
    'quote_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'quote_date': 'DATE',
    'quote_type': 'VARCHAR', 'hours': 'DECIMAL(10,2)', 'quoted_amount': 'DECIMAL(18,2)',
    'currency': 'VARCHAR', 'status': 'VARCHAR', 'description': 'VARCHAR'
})
;

-- Where the rows come from: every raw file (its path under raw_dir, as the ingest records it)
-- and the number of its first row among the rows read of its source.
create or replace temp table origins as
select f.file_key, f.first_o, substr(g.file, length(getvariable('raw_dir')) + 2) as source_file
from
    (
        select file_key, first_o from invoice_scan where file_row
        union all
        select file_key, min(o) from bookings group by all
        union all
        select file_key, min(o) from shipments group by all
        union all
        select file_key, min(o) from quotations group by all
    ) as f
join
    (select file, hash(file) as file_key from glob(getvariable('raw_dir') || '/*/*.csv')) as g
    using (file_key)
;

drop table invoice_scan
;

-- The activity catalogue: a rate applies from valid_from up to and including valid_to; its row
-- (1 = the first data row) is the lineage of every line it prices.
create or replace temp table rates as
select
    activity, cost_category, driver, rate, currency as rate_currency, valid_from,
    coalesce(valid_to + 1, date '9999-12-31') as valid_until, ordinality as rate_source_row
from read_csv(
    getvariable('rates_file'), delim = ',', header = true,
    columns = {
        'activity': 'VARCHAR', 'cost_category': 'VARCHAR', 'driver': 'VARCHAR',
        'rate': 'DECIMAL(18,6)', 'currency': 'VARCHAR', 'valid_from': 'DATE', 'valid_to': 'DATE',
        'description': 'VARCHAR'
    }
) with ordinality
;

create or replace temp table categories as
select cost_category, label as cost_category_label
from read_csv(getvariable('categories_file'), delim = ',', header = true, all_varchar = true)
;

-- The cost lines (the mart cost_lines): direct bookings converted into the reporting currency,
-- driver volumes and receivable pieces priced at the catalogue rate valid on their date.
create or replace temp view cost_lines as
with
    direct as (
        select
            b.source_name, b.source_id, a.account_id, b.customer_id, b.cost_date,
            b.cost_category, 'direct' as allocation,
            cast(null as varchar) as activity, cast(null as varchar) as driver,
            cast(null as decimal(24, 6)) as driver_quantity, cast(null as decimal(18, 6)) as rate,
            cast(null as varchar) as rate_currency, cast(null as date) as rate_valid_from,
            cast(null as varchar) as rate_source_file, cast(null as bigint) as rate_source_row,
            b.currency, b.amount as amount_document_currency, fx.rate as fx_rate,
            money(money(b.amount) * fx.rate) as amount, b.file_key, b.o, b.detail
        from bookings as b
        join accounts as a using (customer_id)
        join fx_daily as fx on fx.currency = b.currency and fx.day = b.cost_date
    ),
    -- one row per document (a document whose lines differ in terms has several in documents)
    documents_once as (
        select
            invoice_number, document_type, invoice_date, customer_id,
            cast(sum(line_count) as bigint) as line_count,
            arg_min(first_file, first_o) as file_key, min(first_o) as o
        from documents
        group by invoice_number, document_type, invoice_date, customer_id
    ),
    volumes as (
        select
            'orders' as driver, invoice_date as activity_date, customer_id, 1 as quantity,
            'invoice_lines' as source_name, invoice_number as source_id, file_key, o,
            'invoice ' || invoice_number || ': 1 order' as detail
        from documents_once where document_type = 'invoice'
        union all
        select
            'order_lines', invoice_date, customer_id, line_count, 'invoice_lines',
            invoice_number, file_key, o,
            'invoice ' || invoice_number || ': ' || line_count || ' order line(s)'
        from documents_once where document_type = 'invoice'
        union all
        select
            'credit_notes', invoice_date, customer_id, 1, 'invoice_lines', invoice_number,
            file_key, o, 'credit note ' || invoice_number || ' (' || line_count || ' line(s))'
        from documents_once where document_type = 'credit_note'
        union all
        select
            'shipments', ship_date, customer_id, 1, 'shipments', shipment_id, file_key, o,
            'shipment ' || shipment_id || coalesce(' for invoice ' || invoice_number, '')
        from shipments
        union all
        select
            'express_shipments', ship_date, customer_id, 1, 'shipments', shipment_id, file_key,
            o, 'express shipment ' || shipment_id
        from shipments where service_level = 'express'
        union all
        select
            'shipped_kg', ship_date, customer_id, weight_kg, 'shipments', shipment_id, file_key,
            o, 'shipment ' || shipment_id || ': ' || weight_kg || ' kg shipped'
        from shipments
        union all
        select
            case quote_type when 'tender' then 'tender_hours' else 'quote_hours' end,
            quote_date, customer_id, hours, 'quotations', quote_id, file_key, o,
            quote_type || ' ' || quote_id || ': ' || hours || ' h'
            || coalesce(' - ' || description, '')
        from quotations
    ),
    point_lines as (
        select
            v.source_name, v.source_id, a.account_id, v.customer_id, v.activity_date as cost_date,
            r.cost_category, r.activity, v.driver,
            cast(v.quantity as decimal(24, 6)) as driver_quantity, r.rate, r.rate_currency,
            r.valid_from as rate_valid_from, r.rate_source_row, v.file_key, v.o, v.detail
        from volumes as v
        join accounts as a using (customer_id)
        join rates as r
            on r.driver = v.driver
            and v.activity_date >= r.valid_from and v.activity_date < r.valid_until
        where v.quantity > 0
    ),
    -- Receivables: each invoice from its date until paid (or the as-of date while open), within
    -- terms before the due date, late after it, cut at month ends and at rate changes.
    invoices as (
        select
            *,
            least(coalesce(payment_date, getvariable('as_of_date')), getvariable('as_of_date'))
                as settled_date,
            payment_date is null or payment_date > getvariable('as_of_date') as is_open
        from documents
        where document_type = 'invoice' and gross_revenue > 0
    ),
    periods as (
        select *, 'receivable_years_in_terms' as driver, invoice_date as period_start,
               least(due_date, settled_date) as period_end
        from invoices
        union all
        select *, 'receivable_years_late', greatest(due_date, invoice_date), settled_date
        from invoices
    ),
    pieces as (
        select
            p.*,
            greatest(p.period_start, cast(m.month_start as date)) as piece_start,
            least(p.period_end, cast(m.month_start + interval 1 month as date)) as piece_end
        from periods as p
        cross join unnest(generate_series(
            cast(date_trunc('month', p.period_start) as timestamp),
            cast(p.period_end - 1 as timestamp),
            interval 1 month
        )) as m(month_start)
        where p.period_end > p.period_start
    ),
    financing_lines as (
        select
            'invoice_lines' as source_name, invoice_number as source_id, account_id, customer_id,
            cost_date, cost_category, activity, driver,
            receivable_years(gross_revenue, cost_end - cost_date) as driver_quantity, rate,
            rate_currency, rate_valid_from, rate_source_row, first_file as file_key, first_o as o,
            'invoice ' || invoice_number || ': receivable ' || gross_revenue || ' '
            || getvariable('reporting_currency') || ' x ' || (cost_end - cost_date) || ' day(s) '
            || strftime(cost_date, '%d.%m.%Y') || '-' || strftime(cost_end - 1, '%d.%m.%Y')
            || case
                when driver = 'receivable_years_late'
                then ' past due date ' || strftime(due_date, '%d.%m.%Y')
                else ' within terms (due ' || strftime(due_date, '%d.%m.%Y') || ')'
            end
            || case when is_open then ', unpaid' else '' end || ' / 365' as detail
        from (
            select
                f.*, r.cost_category, r.activity, r.rate, r.rate_currency,
                r.valid_from as rate_valid_from, r.rate_source_row,
                greatest(f.piece_start, r.valid_from) as cost_date,
                least(f.piece_end, r.valid_until) as cost_end
            from pieces as f
            join rates as r
                on r.driver = f.driver
                and r.valid_from < f.piece_end and r.valid_until > f.piece_start
        )
    ),
    priced as (
        select *, coalesce(rate_currency, getvariable('reporting_currency')) as currency
        from (select * from point_lines union all select * from financing_lines)
    ),
    allocated as (
        select
            p.source_name, p.source_id, p.account_id, p.customer_id, p.cost_date,
            p.cost_category, 'activity' as allocation, p.activity, p.driver, p.driver_quantity,
            p.rate, p.rate_currency, p.rate_valid_from,
            getvariable('rates_source_file') as rate_source_file, p.rate_source_row, p.currency,
            money(p.driver_quantity * p.rate) as amount_document_currency, fx.rate as fx_rate,
            money(money(p.driver_quantity * p.rate) * fx.rate) as amount, p.file_key, p.o,
            p.detail
        from priced as p
        join fx_daily as fx on fx.currency = p.currency and fx.day = p.cost_date
    ),
    lines as (select * from direct union all select * from allocated)
select
    l.source_name || ':' || l.source_id || coalesce(':' || l.activity, '')
    || case when l.driver like 'receivable_years%' then ':' || cast(l.cost_date as varchar) else '' end
        as cost_line_id,
    l.account_id,
    l.customer_id,
    cast(date_trunc('month', l.cost_date) as date) as month,
    l.cost_date,
    l.cost_category,
    c.cost_category_label,
    l.allocation,
    l.activity,
    l.driver,
    l.driver_quantity,
    l.rate,
    l.rate_currency,
    l.rate_valid_from,
    l.rate_source_file,
    l.rate_source_row,
    l.currency,
    l.amount_document_currency,
    l.fx_rate,
    getvariable('reporting_currency') as reporting_currency,
    l.amount,
    l.source_name,
    l.source_id,
    f.source_file,
    l.o - f.first_o + 1 as source_row,
    l.detail
from lines as l
join origins as f using (file_key)
left join categories as c using (cost_category)
;

copy (select * from cost_lines) to (getvariable('out_dir') || '/cost_lines') (
    format parquet, compression zstd, compression_level 1, partition_by (month),
    write_partition_columns true
)
;

-- cost_to_serve: the aggregate of the cost lines, read back from their files.
create or replace temp table cost_to_serve as
select
    account_id,
    month,
    cost_category,
    any_value(cost_category_label) as cost_category_label,
    getvariable('reporting_currency') as reporting_currency,
    cast(sum(amount) as decimal(18, 2)) as amount,
    cast(coalesce(sum(amount) filter (where allocation = 'direct'), 0) as decimal(18, 2))
        as direct_amount,
    cast(coalesce(sum(amount) filter (where allocation = 'activity'), 0) as decimal(18, 2))
        as allocated_amount,
    count(*) as cost_line_count
from read_parquet(getvariable('out_dir') || '/cost_lines/*/*.parquet', hive_partitioning = false)
group by account_id, month, cost_category
;

copy cost_to_serve to (getvariable('out_dir') || '/cost_to_serve') (
    format parquet, compression zstd, compression_level 1, partition_by (month),
    write_partition_columns true
)
;

create or replace temp table key_account_value as
with
    deductions as (
        select account_id, month,
               sum(amount) filter (where deduction_type = 'bonus') as bonuses,
               sum(amount) filter (where deduction_type = 'cash_discount') as cash_discounts,
               sum(amount) filter (where deduction_type = 'rebate') as rebates,
               sum(amount) filter (where deduction_type = 'promotion') as promotions
        from deductions_by_month group by all
    ),
    costs as (
        select account_id, month, sum(amount) as relationship_costs
        from cost_to_serve group by all
    ),
    account_months as (
        select account_id, month from revenue
        union select account_id, month from deductions
        union select account_id, month from costs
    ),
    waterfall as (
        select
            account_id,
            month,
            coalesce(r.gross_revenue, 0) as gross_revenue,
            coalesce(d.bonuses, 0) as bonuses,
            coalesce(d.cash_discounts, 0) as cash_discounts,
            coalesce(d.rebates, 0) as rebates,
            coalesce(d.promotions, 0) as promotions,
            coalesce(r.cogs, 0) as cogs,
            coalesce(c.relationship_costs, 0) as relationship_costs
        from account_months
        left join revenue as r using (account_id, month)
        left join deductions as d using (account_id, month)
        left join costs as c using (account_id, month)
    )
select
    account_id,
    month,
    getvariable('reporting_currency') as reporting_currency,
    cast(gross_revenue as decimal(18, 2)) as gross_revenue,
    cast(bonuses as decimal(18, 2)) as bonuses,
    cast(cash_discounts as decimal(18, 2)) as cash_discounts,
    cast(rebates as decimal(18, 2)) as rebates,
    cast(promotions as decimal(18, 2)) as promotions,
    cast(bonuses + cash_discounts + rebates + promotions as decimal(18, 2)) as revenue_deductions,
    cast(gross_revenue - revenue_deductions as decimal(18, 2)) as net_revenue,
    cast(cogs as decimal(18, 2)) as cogs,
    cast(net_revenue - cogs as decimal(18, 2)) as gross_margin,
    cast(relationship_costs as decimal(18, 2)) as relationship_costs,
    cast(gross_margin - relationship_costs as decimal(18, 2)) as key_account_value
from waterfall
;

copy key_account_value to (getvariable('out_dir') || '/key_account_value.parquet') (
    format parquet, compression zstd, compression_level 1
)
;
