-- Bare DuckDB baseline, two-mart variant ("bare DuckDB (2 marts)"): only the key_account_value
-- and cost_to_serve marts straight from the raw German CSV files (and the activity catalogue
-- config/activity_rates.csv), in one script, each written as one Parquet file with the mart
-- columns only. No orchestration, no validation or quarantine, no tests, no publication, no
-- cost_lines. This was the floor of every benchmark run before the fair floor
-- (bench/bare_duckdb.sql); it is kept as it was so that its timings stay comparable with the
-- earlier runs. Change it only to follow a change of the money rules (the smoke test says when).
-- It computes what the dbt models compute (see dbt_project/models):
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
--
-- Inputs (DuckDB variables): raw_dir (folder holding <source>/*.csv), rates_file (the activity
-- catalogue CSV), reporting_currency, as_of_date (NULL: the latest date in the data), out_dir
-- (where the two marts are written as Parquet).
-- Run it with bench/bare_duckdb.py --variant 2marts.
create or replace temp macro money(x) as cast(round(x, 2) as decimal(18, 2))
;
create or replace temp macro receivable_years(amount, days) as cast(
    cast(divide(2 * cast(round(amount * 100) as hugeint) * days * 10000 + 365, 730) as decimal(38, 0))
    * 0.000001 as decimal(24, 6)
)
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
select date '1900-01-01', getvariable('reporting_currency'), 1
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

create or replace temp table lines as
select
    l.invoice_number,
    l.document_type,
    l.invoice_date,
    l.customer_id,
    a.account_id,
    l.due_date,
    l.payment_date,
    cast(date_trunc('month', l.invoice_date) as date) as month,
    l.sign * money(money(l.quantity * l.unit_price) * fx.rate) as gross_revenue,
    l.sign * money(money(l.quantity * l.standard_cost_per_unit) * fx.rate) as cogs
from
    (
        select *, case when document_type = 'credit_note' then -1 else 1 end as sign
        from
            read_csv(
                getvariable('raw_dir') || '/invoice_lines/*.csv',
                delim = ';', header = true, decimal_separator = ',', thousands = '.',
                dateformat = '%d.%m.%Y',
                columns = {
                    'invoice_number': 'VARCHAR', 'line_number': 'BIGINT', 'invoice_date': 'DATE',
                    'customer_id': 'VARCHAR', 'product_id': 'VARCHAR',
                    'quantity': 'DECIMAL(18,3)', 'unit_price': 'DECIMAL(18,4)',
                    'currency': 'VARCHAR', 'document_type': 'VARCHAR',
                    'standard_cost_per_unit': 'DECIMAL(18,4)', 'due_date': 'DATE',
                    'payment_date': 'DATE'
                }
            )
    ) as l
join accounts as a using (customer_id)
asof join fx on fx.currency = l.currency and l.invoice_date >= fx.rate_date
;

create or replace temp table revenue as
select account_id, month, sum(gross_revenue) as gross_revenue, sum(cogs) as cogs
from lines
group by all
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
asof join fx on fx.currency = d.currency and d.booking_date >= fx.rate_date
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

-- Direct costs of the declared cost sources.
create or replace temp table cost_lines as
with
    bookings as (
        select customer_id, service_date as cost_date, cost_category, currency,
               cast(round(hours * hourly_rate, 2) + round(coalesce(material_amount, 0), 2)
                    as decimal(18, 2)) as amount
        from read_csv(
            getvariable('raw_dir') || '/service_logs/*.csv',
            delim = ';', header = true, decimal_separator = ',', thousands = '.',
            dateformat = '%d.%m.%Y',
            columns = {
                'ticket_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'service_date': 'DATE',
                'cost_category': 'VARCHAR', 'hours': 'DECIMAL(10,2)',
                'hourly_rate': 'DECIMAL(12,2)', 'material_amount': 'DECIMAL(18,2)',
                'currency': 'VARCHAR', 'description': 'VARCHAR'
            }
        )
        union all
        select customer_id, visit_date, 'consulting_and_visits', currency,
               cast(round(hours * hourly_rate, 2) + round(coalesce(travel_amount, 0), 2)
                    + round(coalesce(expense_amount, 0), 2) as decimal(18, 2))
        from read_csv(
            getvariable('raw_dir') || '/visit_costs/*.csv',
            delim = ';', header = true, decimal_separator = ',', thousands = '.',
            dateformat = '%d.%m.%Y',
            columns = {
                'visit_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'visit_date': 'DATE',
                'employee': 'VARCHAR', 'purpose': 'VARCHAR', 'hours': 'DECIMAL(10,2)',
                'hourly_rate': 'DECIMAL(12,2)', 'travel_amount': 'DECIMAL(18,2)',
                'expense_amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR'
            }
        )
        union all
        select customer_id, booking_date, cost_category, currency,
               cast(round(amount, 2) as decimal(18, 2))
        from read_csv(
            getvariable('raw_dir') || '/marketing_bookings/*.csv',
            delim = ';', header = true, decimal_separator = ',', thousands = '.',
            dateformat = '%d.%m.%Y',
            columns = {
                'booking_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'booking_date': 'DATE',
                'cost_category': 'VARCHAR', 'campaign': 'VARCHAR', 'vendor': 'VARCHAR',
                'amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR'
            }
        )
    )
select a.account_id, cast(date_trunc('month', b.cost_date) as date) as month, b.cost_category,
       money(money(b.amount) * fx.rate) as amount
from bookings as b
join accounts as a using (customer_id)
asof join fx on fx.currency = b.currency and b.cost_date >= fx.rate_date
;

-- The activity catalogue: a rate applies from valid_from up to and including valid_to.
create or replace temp table rates as
select activity, cost_category, driver, rate, currency as rate_currency, valid_from,
       coalesce(valid_to + 1, date '9999-12-31') as valid_until
from read_csv(
    getvariable('rates_file'), delim = ',', header = true,
    columns = {
        'activity': 'VARCHAR', 'cost_category': 'VARCHAR', 'driver': 'VARCHAR',
        'rate': 'DECIMAL(18,6)', 'currency': 'VARCHAR', 'valid_from': 'DATE', 'valid_to': 'DATE',
        'description': 'VARCHAR'
    }
)
;

-- Driver volumes: invoice documents, shipments, quotes.
create or replace temp table drivers as
with
    documents as (
        select invoice_number, document_type, invoice_date, customer_id, count(*) as line_count
        from lines group by all
    ),
    shipments as (
        select *
        from read_csv(
            getvariable('raw_dir') || '/shipments/*.csv',
            delim = ';', header = true, decimal_separator = ',', thousands = '.',
            dateformat = '%d.%m.%Y',
            columns = {
                'shipment_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'ship_date': 'DATE',
                'invoice_number': 'VARCHAR', 'service_level': 'VARCHAR', 'packages': 'BIGINT',
                'weight_kg': 'DECIMAL(12,1)', 'carrier': 'VARCHAR'
            }
        )
    ),
    volumes as (
        select 'orders' as driver, invoice_date as activity_date, customer_id,
               cast(1 as decimal(24, 6)) as quantity
        from documents where document_type = 'invoice'
        union all
        select 'order_lines', invoice_date, customer_id, line_count
        from documents where document_type = 'invoice'
        union all
        select 'credit_notes', invoice_date, customer_id, 1
        from documents where document_type = 'credit_note'
        union all
        select 'shipments', ship_date, customer_id, 1 from shipments
        union all
        select 'express_shipments', ship_date, customer_id, 1
        from shipments where service_level = 'express'
        union all
        select 'shipped_kg', ship_date, customer_id, weight_kg from shipments
        union all
        select case quote_type when 'tender' then 'tender_hours' else 'quote_hours' end,
               quote_date, customer_id, hours
        from read_csv(
            getvariable('raw_dir') || '/quotations/*.csv',
            delim = ';', header = true, decimal_separator = ',', thousands = '.',
            dateformat = '%d.%m.%Y',
            columns = {
                'quote_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'quote_date': 'DATE',
                'quote_type': 'VARCHAR', 'hours': 'DECIMAL(10,2)',
                'quoted_amount': 'DECIMAL(18,2)', 'currency': 'VARCHAR', 'status': 'VARCHAR',
                'description': 'VARCHAR'
            }
        )
    )
select v.driver, a.account_id, v.activity_date, cast(v.quantity as decimal(24, 6)) as quantity
from volumes as v join accounts as a using (customer_id)
where v.quantity > 0
;

-- Receivables: each invoice from its date until paid (or the latest data date while open),
-- within terms before the due date, late after it, cut at month ends.
create or replace temp table financing as
with
    invoices as (
        select invoice_number, account_id, customer_id, invoice_date, due_date, payment_date,
               sum(gross_revenue) as receivable
        from lines where document_type = 'invoice'
        group by all
    ),
    settled as (
        select i.*, least(coalesce(i.payment_date, a.as_of_date), a.as_of_date) as settled_date
        from invoices as i
        cross join (
            select coalesce(
                getvariable('as_of_date'),
                max(greatest(invoice_date, coalesce(payment_date, invoice_date)))
            ) as as_of_date
            from lines
        ) as a
        where i.receivable > 0
    ),
    periods as (
        select *, 'receivable_years_in_terms' as driver, invoice_date as period_start,
               least(due_date, settled_date) as period_end
        from settled
        union all
        select *, 'receivable_years_late', greatest(due_date, invoice_date), settled_date
        from settled
    )
select
    p.driver,
    p.account_id,
    p.receivable,
    greatest(p.period_start, cast(m.month_start as date)) as piece_start,
    least(p.period_end, cast(m.month_start + interval 1 month as date)) as piece_end
from periods as p
cross join unnest(generate_series(
    cast(date_trunc('month', p.period_start) as timestamp),
    cast(p.period_end - 1 as timestamp),
    interval 1 month
)) as m(month_start)
where p.period_end > p.period_start
;

insert into cost_lines
with
    priced as (
        select d.account_id, d.activity_date as cost_date, r.cost_category,
               d.quantity, r.rate, r.rate_currency
        from drivers as d
        join rates as r
            on r.driver = d.driver
            and d.activity_date >= r.valid_from and d.activity_date < r.valid_until
        union all
        select account_id, cost_date, cost_category,
               receivable_years(receivable, cost_end - cost_date), rate, rate_currency
        from (
            select f.account_id, f.receivable, r.cost_category, r.rate, r.rate_currency,
                   greatest(f.piece_start, r.valid_from) as cost_date,
                   least(f.piece_end, r.valid_until) as cost_end
            from financing as f
            join rates as r
                on r.driver = f.driver
                and r.valid_from < f.piece_end and r.valid_until > f.piece_start
        )
    ),
    in_currency as (
        select *, coalesce(rate_currency, getvariable('reporting_currency')) as currency
        from priced
    )
select p.account_id, cast(date_trunc('month', p.cost_date) as date), p.cost_category,
       money(money(p.quantity * p.rate) * fx.rate)
from in_currency as p
asof join fx on fx.currency = p.currency and p.cost_date >= fx.rate_date
;

create or replace temp table cost_to_serve as
select account_id, month, cost_category, sum(amount) as amount, count(*) as cost_line_count
from cost_lines
group by all
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
    costs as (select account_id, month, sum(amount) as relationship_costs from cost_lines group by all),
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
    gross_revenue,
    bonuses,
    cash_discounts,
    rebates,
    promotions,
    bonuses + cash_discounts + rebates + promotions as revenue_deductions,
    gross_revenue - revenue_deductions as net_revenue,
    cogs,
    net_revenue - cogs as gross_margin,
    relationship_costs,
    gross_margin - relationship_costs as key_account_value
from waterfall
;

copy key_account_value to (getvariable('out_dir') || '/key_account_value.parquet') (format parquet)
;
copy cost_to_serve to (getvariable('out_dir') || '/cost_to_serve.parquet') (format parquet)
;
