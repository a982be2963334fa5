-- Driver-based cost lines (time-driven activity-based costing): each driver volume priced by
-- every activity on its driver at the catalogue rate valid on the activity date. A rate change
-- on a date applies to activity on and after that date only. Receivable intervals are cut at
-- the rate change, so each day is priced at the rate valid on that day.
-- amount = round(round(driver_quantity x rate, 2) x fx, 2), fx from the rate's currency into
-- the reporting currency on the activity date (1 for financing: its rate is a fraction).
-- Volumes without a rate or exchange rate are left out here and reported by the blocking check
-- driver_volumes_priced (view int_unpriced_driver_volumes), which stops the refresh.
-- A view: cost_lines materializes it, for the run's months only.
-- The cost multiplies driver_quantity as DECIMAL(18, 6): the same value (a larger one stops with
-- a conversion error), multiplied 8x faster than as DECIMAL(24, 6).
{%- set cost = "cast(p.driver_quantity as decimal(18, 6)) * p.rate" %}
with
    rates as (select * from {{ ref("stg_config__activity_rates") }}),

    point_lines as (
        select
            d.account_id,
            d.customer_id,
            d.month,
            d.activity_date as cost_date,
            r.cost_category,
            r.activity,
            d.driver,
            d.quantity as driver_quantity,
            r.rate,
            r.rate_currency,
            r.valid_from as rate_valid_from,
            r.source_file as rate_source_file,
            r.source_row as rate_source_row,
            d.source_name,
            d.source_id,
            d.source_file,
            d.source_row,
            d.detail
        from {{ ref("int_activity_drivers") }} as d
        inner join
            rates as r
            on r.driver = d.driver
            and d.activity_date >= r.valid_from
            and d.activity_date < r.valid_until
    ),

    financing_pieces as (
        select
            f.*,
            r.cost_category,
            r.activity,
            r.rate,
            r.rate_currency,
            r.valid_from as rate_valid_from,
            r.source_file as rate_source_file,
            r.source_row as rate_source_row,
            greatest(f.piece_start, r.valid_from) as cost_date,
            least(f.piece_end, r.valid_until) as cost_end
        from {{ ref("int_financing_drivers") }} as f
        inner join
            rates as r
            on r.driver = f.driver
            and r.valid_from < f.piece_end
            and r.valid_until > f.piece_start
    ),

    financing_lines as (
        select
            account_id,
            customer_id,
            month,
            cost_date,
            cost_category,
            activity,
            driver,
            {{ receivable_years("receivable", "cost_end - cost_date") }} as driver_quantity,
            rate,
            rate_currency,
            rate_valid_from,
            rate_source_file,
            rate_source_row,
            source_name,
            source_id,
            source_file,
            source_row,
            'invoice '
            || invoice_number
            || ': receivable '
            || receivable
            || ' {{ var("reporting_currency") }} x '
            || (cost_end - cost_date)
            || ' day(s) '
            || strftime(cost_date, '%d.%m.%Y')
            || '-'
            || strftime(cost_end - 1, '%d.%m.%Y')
            || case
                when driver = 'receivable_years_late'
                then ' past due date ' || strftime(due_date, '%d.%m.%Y')
                else ' within terms (due ' || strftime(due_date, '%d.%m.%Y') || ')'
            end
            || case when is_open then ', unpaid' else '' end
            || ' / 365' as detail
        from financing_pieces
    ),

    -- a union by position with the columns listed: DuckDB prunes the columns a reader does
    -- not select (the detail text, the amounts) only through a plain UNION ALL
    priced as (
        select *, coalesce(rate_currency, '{{ var("reporting_currency") }}') as currency
        from
            (
                select {{ cost_line_columns("allocation") }}
                from point_lines
                union all
                select {{ cost_line_columns("allocation") }}
                from financing_lines
            )
    )

-- month: of the driver volume or receivable piece (= of cost_date): a filter on it reaches the
-- sources of the view
select
    {{
        cost_line_columns(
            "line",
            alias="p",
            exprs={
                "allocation": "'activity'",
                "amount_document_currency": money(cost),
                "fx_rate": "fx.rate",
                "amount": to_reporting(cost),
            },
        )
    }}
from priced as p {{ fx_join("p", "currency", "cost_date") }}
where fx.rate is not null
