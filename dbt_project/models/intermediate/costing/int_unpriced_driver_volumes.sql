-- Driver volume that the activity catalogue does not price: the blocking check
-- driver_volumes_priced (orchestration/assets/costing.py) fails the refresh when this view has
-- rows, naming the catalogue, the activity, the date and the raw row that needs the rate.
-- detail says what the volume is (e.g. "invoice R4: 1 order line(s)").
-- problem: no_activity (no activity uses the driver), no_rate (an activity on the driver has no
-- version valid on that date), no_exchange_rate (the rate's currency cannot be converted).
-- The catalogue is small and the volumes are millions, so the gaps are found in the catalogue
-- (the days no version of an activity covers, the days without an exchange rate) and only then
-- matched with the volumes: when there is no gap, DuckDB never reads a volume.
with
    rates as (select * from {{ ref("stg_config__activity_rates") }}),

    activities as (select distinct driver, activity from rates),

    -- per activity, the days no version prices: before the first version, between versions,
    -- after the last one (validity periods never overlap: the catalogue check stops the refresh)
    rate_gaps as (
        select driver, activity, gap_start, gap_end
        from
            (
                select
                    driver,
                    activity,
                    coalesce(
                        lag(valid_until) over (partition by activity order by valid_from),
                        date '0001-01-01'
                    ) as gap_start,
                    valid_from as gap_end
                from rates
                union all
                select driver, activity, max(valid_until), date '9999-12-31'
                from rates
                group by driver, activity
            )
        where gap_start < gap_end
    ),

    -- rate versions whose currency has no exchange rate into the reporting currency on some of
    -- their days: before its first rate, or none at all
    fx_gaps as (
        select r.driver, r.activity, r.valid_from, r.valid_until, f.first_day
        from rates as r
        left join
            (
                select currency, min(rate_date) as first_day
                from {{ ref("int_exchange_rates_to_reporting") }}
                group by currency
            ) as f
            on f.currency = r.rate_currency
        where r.rate_currency is not null and (f.first_day is null or f.first_day > r.valid_from)
    ),

    -- drivers in the data that no activity prices (a pass over the driver column only)
    unknown_drivers as materialized(
        select distinct driver
        from {{ ref("int_activity_drivers") }}
        where driver not in (select driver from activities)
        union
        select distinct driver
        from {{ ref("int_financing_drivers") }}
        where driver not in (select driver from activities)
    ),

    point_volumes as (
        select
            d.driver,
            g.activity,
            d.activity_date,
            d.month,
            d.quantity,
            d.source_name,
            d.source_id,
            d.source_file,
            d.source_row,
            d.detail,
            'no_rate' as problem
        from {{ ref("int_activity_drivers") }} as d
        inner join
            rate_gaps as g
            on g.driver = d.driver
            and d.activity_date >= g.gap_start
            and d.activity_date < g.gap_end
        union all
        select
            d.driver,
            null,
            d.activity_date,
            d.month,
            d.quantity,
            d.source_name,
            d.source_id,
            d.source_file,
            d.source_row,
            d.detail,
            'no_activity'
        from {{ ref("int_activity_drivers") }} as d
        inner join unknown_drivers using (driver)
    ),

    -- one row per piece and activity, however many gaps of the activity the piece touches
    interval_volumes as (
        select distinct
            f.driver,
            g.activity,
            f.piece_start as activity_date,
            f.month,
            cast(f.receivable as decimal(24, 6)) as quantity,
            f.source_name,
            f.source_id,
            f.source_file,
            f.source_row,
            {{ receivable_piece_detail("f") }} as detail,
            'no_rate' as problem
        from {{ ref("int_financing_drivers") }} as f
        inner join
            rate_gaps as g
            on g.driver = f.driver
            and f.piece_start < g.gap_end
            and f.piece_end > g.gap_start
        union all
        select
            f.driver,
            null,
            f.piece_start,
            f.month,
            cast(f.receivable as decimal(24, 6)),
            f.source_name,
            f.source_id,
            f.source_file,
            f.source_row,
            {{ receivable_piece_detail("f") }},
            'no_activity'
        from {{ ref("int_financing_drivers") }} as f
        inner join unknown_drivers using (driver)
    ),

    -- priced, but the rate's currency has no exchange rate on the activity date
    no_fx as (
        select
            d.driver,
            g.activity,
            d.activity_date,
            d.month,
            d.quantity,
            d.source_name,
            d.source_id,
            d.source_file,
            d.source_row,
            d.detail,
            'no_exchange_rate' as problem
        from {{ ref("int_activity_drivers") }} as d
        inner join
            fx_gaps as g
            on g.driver = d.driver
            and d.activity_date >= g.valid_from
            and d.activity_date < g.valid_until
        where g.first_day is null or d.activity_date < g.first_day
    )

select
    driver,
    activity,
    activity_date,
    month,
    quantity,
    source_name,
    source_id,
    source_file,
    source_row,
    detail,
    problem
from point_volumes
union all
select
    driver,
    activity,
    activity_date,
    month,
    quantity,
    source_name,
    source_id,
    source_file,
    source_row,
    detail,
    problem
from interval_volumes
union all
select
    driver,
    activity,
    activity_date,
    month,
    quantity,
    source_name,
    source_id,
    source_file,
    source_row,
    detail,
    problem
from no_fx
