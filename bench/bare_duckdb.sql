-- Bare DuckDB baseline: the key_account_value and cost_to_serve marts straight from the raw
-- German CSV files, in one script. No orchestration, no quarantine, no tests, no publication:
-- the floor the pipeline is measured against.
--
-- Same money rules as the dbt models (dbt_project/macros/to_reporting_currency.sql): an amount
-- is rounded to the cent in its document currency, converted at the latest rate on or before
-- its date and rounded to the cent again; credit notes are negative.
--
-- Inputs (DuckDB variables): raw_dir (folder holding <source>/*.csv), reporting_currency,
-- out_dir (where the two marts are written as Parquet). Run it with bench/bare_duckdb.py or:
--   SET VARIABLE raw_dir = 'data/raw'; SET VARIABLE reporting_currency = 'CHF';
--   SET VARIABLE out_dir = '/tmp'; .read bench/bare_duckdb.sql
create or replace temp macro money(x) as cast(round(x, 2) as decimal(18, 2))
;

create or replace temp table fx as
select rate_date, from_currency as currency, rate
from
    read_csv(
        getvariable('raw_dir') || '/exchange_rates/*.csv',
        delim = ';',
        header = true,
        decimal_separator = ',',
        thousands = '.',
        dateformat = '%d.%m.%Y',
        columns = {
            'rate_date': 'DATE',
            'from_currency': 'VARCHAR',
            'to_currency': 'VARCHAR',
            'rate': 'DECIMAL(18,6)'
        }
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
        delim = ';',
        header = true,
        encoding = 'latin-1',
        all_varchar = true
    )
;

create or replace temp table revenue as
select
    a.account_id,
    cast(date_trunc('month', l.invoice_date) as date) as month,
    sum(
        l.sign * money(money(l.quantity * l.unit_price) * fx.rate)
    ) as gross_revenue,
    sum(
        l.sign * money(money(l.quantity * l.standard_cost_per_unit) * fx.rate)
    ) as cogs
from
    (
        select *, case when document_type = 'credit_note' then -1 else 1 end as sign
        from
            read_csv(
                getvariable('raw_dir') || '/invoice_lines/*.csv',
                delim = ';',
                header = true,
                decimal_separator = ',',
                thousands = '.',
                dateformat = '%d.%m.%Y',
                columns = {
                    'invoice_number': 'VARCHAR',
                    'line_number': 'BIGINT',
                    'invoice_date': 'DATE',
                    'customer_id': 'VARCHAR',
                    'product_id': 'VARCHAR',
                    'quantity': 'DECIMAL(18,3)',
                    'unit_price': 'DECIMAL(18,4)',
                    'currency': 'VARCHAR',
                    'document_type': 'VARCHAR',
                    'standard_cost_per_unit': 'DECIMAL(18,4)',
                    'due_date': 'DATE',
                    'payment_date': 'DATE'
                }
            )
    ) as l
join accounts as a using (customer_id)
asof join fx on fx.currency = l.currency and l.invoice_date >= fx.rate_date
group by all
;

create or replace temp table deductions as
select
    a.account_id,
    cast(date_trunc('month', d.booking_date) as date) as month,
    sum(money(money(d.amount) * fx.rate)) filter (where d.deduction_type = 'bonus') as bonuses,
    sum(money(money(d.amount) * fx.rate)) filter (
        where d.deduction_type = 'cash_discount'
    ) as cash_discounts,
    sum(money(money(d.amount) * fx.rate)) filter (where d.deduction_type = 'rebate') as rebates,
    sum(money(money(d.amount) * fx.rate)) filter (
        where d.deduction_type = 'promotion'
    ) as promotions
from
    read_csv(
        getvariable('raw_dir') || '/deductions/*.csv',
        delim = ';',
        header = true,
        decimal_separator = ',',
        thousands = '.',
        dateformat = '%d.%m.%Y',
        columns = {
            'deduction_id': 'VARCHAR',
            'customer_id': 'VARCHAR',
            'booking_date': 'DATE',
            'deduction_type': 'VARCHAR',
            'amount': 'DECIMAL(18,2)',
            'currency': 'VARCHAR',
            'invoice_number': 'VARCHAR',
            'period_start': 'DATE',
            'period_end': 'DATE'
        }
    ) as d
join accounts as a using (customer_id)
asof join fx on fx.currency = d.currency and d.booking_date >= fx.rate_date
group by all
;

create or replace temp table cost_lines as
with
    bookings as (
        select
            customer_id,
            service_date as cost_date,
            cost_category,
            currency,
            money(hours * hourly_rate) + coalesce(material_amount, 0) as amount
        from
            read_csv(
                getvariable('raw_dir') || '/service_logs/*.csv',
                delim = ';',
                header = true,
                decimal_separator = ',',
                thousands = '.',
                dateformat = '%d.%m.%Y',
                columns = {
                    'ticket_id': 'VARCHAR',
                    'customer_id': 'VARCHAR',
                    'service_date': 'DATE',
                    'cost_category': 'VARCHAR',
                    'hours': 'DECIMAL(10,2)',
                    'hourly_rate': 'DECIMAL(12,2)',
                    'material_amount': 'DECIMAL(18,2)',
                    'currency': 'VARCHAR',
                    'description': 'VARCHAR'
                }
            )
        union all
        select
            customer_id,
            visit_date,
            'consulting_and_visits',
            currency,
            money(hours * hourly_rate) + coalesce(travel_amount, 0) + coalesce(expense_amount, 0)
        from
            read_csv(
                getvariable('raw_dir') || '/visit_costs/*.csv',
                delim = ';',
                header = true,
                decimal_separator = ',',
                thousands = '.',
                dateformat = '%d.%m.%Y',
                columns = {
                    'visit_id': 'VARCHAR',
                    'customer_id': 'VARCHAR',
                    'visit_date': 'DATE',
                    'employee': 'VARCHAR',
                    'purpose': 'VARCHAR',
                    'hours': 'DECIMAL(10,2)',
                    'hourly_rate': 'DECIMAL(12,2)',
                    'travel_amount': 'DECIMAL(18,2)',
                    'expense_amount': 'DECIMAL(18,2)',
                    'currency': 'VARCHAR'
                }
            )
    )
select
    a.account_id,
    cast(date_trunc('month', b.cost_date) as date) as month,
    b.cost_category,
    money(money(b.amount) * fx.rate) as amount
from bookings as b
join accounts as a using (customer_id)
asof join fx on fx.currency = b.currency and b.cost_date >= fx.rate_date
;

create or replace temp table cost_to_serve as
select account_id, month, cost_category, sum(amount) as amount, count(*) as cost_line_count
from cost_lines
group by all
;

create or replace temp table key_account_value as
with
    costs as (
        select account_id, month, sum(amount) as relationship_costs from cost_lines group by all
    ),
    account_months as (
        select account_id, month
        from revenue
        union
        select account_id, month
        from deductions
        union
        select account_id, month
        from costs
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
