-- Driver volume that the activity catalogue does not price: the blocking check
-- driver_volumes_priced (orchestration/assets/costing.py) fails the refresh when this view has
-- rows, naming the catalogue, the activity, the date and the raw row that needs the rate.
-- detail says what the volume is (e.g. "invoice R4: 1 order line(s)").
-- problem: no_activity (no activity uses the driver), no_rate (an activity on the driver has no
-- version valid on that date), no_exchange_rate (the rate's currency cannot be converted).
with
    rates as (select * from {{ ref("stg_config__activity_rates") }}),

    activities as (select distinct driver, activity from rates),

    point_volumes as (
        select
            d.driver,
            a.activity,
            d.activity_date,
            d.quantity,
            d.source_name,
            d.source_id,
            d.source_file,
            d.source_row,
            d.detail,
            case
                when a.activity is null
                then 'no_activity'
                when
                    not exists (
                        select 1
                        from rates as r
                        where
                            r.activity = a.activity
                            and d.activity_date >= r.valid_from
                            and d.activity_date < r.valid_until
                    )
                then 'no_rate'
            end as problem
        from {{ ref("int_activity_drivers") }} as d
        left join activities as a on a.driver = d.driver
    ),

    interval_volumes as (
        select
            f.driver,
            a.activity,
            f.piece_start as activity_date,
            cast(f.receivable as decimal(24, 6)) as quantity,
            f.source_name,
            f.source_id,
            f.source_file,
            f.source_row,
            'invoice '
            || f.invoice_number
            || ': receivable '
            || f.receivable
            || ' outstanding '
            || strftime(f.piece_start, '%d.%m.%Y')
            || '-'
            || strftime(f.piece_end - 1, '%d.%m.%Y') as detail,
            case
                when a.activity is null
                then 'no_activity'
                when
                    f.days > coalesce(
                        (
                            select
                                sum(
                                    least(f.piece_end, r.valid_until)
                                    - greatest(f.piece_start, r.valid_from)
                                )
                            from rates as r
                            where
                                r.activity = a.activity
                                and r.valid_from < f.piece_end
                                and r.valid_until > f.piece_start
                        ),
                        0
                    )
                then 'no_rate'
            end as problem
        from {{ ref("int_financing_drivers") }} as f
        left join activities as a on a.driver = f.driver
    ),

    -- priced, but the rate's currency has no exchange rate on or before the activity date
    no_fx as (
        select
            d.driver,
            r.activity,
            d.activity_date,
            d.quantity,
            d.source_name,
            d.source_id,
            d.source_file,
            d.source_row,
            d.detail,
            'no_exchange_rate' as problem
        from {{ ref("int_activity_drivers") }} as d
        inner join
            rates as r
            on r.driver = d.driver
            and d.activity_date >= r.valid_from
            and d.activity_date < r.valid_until
        where
            r.rate_currency is not null
            and not exists (
                select 1
                from {{ ref("int_exchange_rates_to_reporting") }} as fx
                where fx.currency = r.rate_currency and fx.rate_date <= d.activity_date
            )
    )

select *
from point_volumes
where problem is not null
union all
select *
from interval_volumes
where problem is not null
union all
select *
from no_fx
