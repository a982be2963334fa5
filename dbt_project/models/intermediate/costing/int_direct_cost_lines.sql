-- Direct relationship costs: one row per row of every declared direct cost source (sources/*.yml
-- with a `cost:` section and allocation direct: service logs, visit costs, marketing bookings,
-- ...). Each declared source has a generated staging model stg_cost__<source> in the canonical
-- shape (customer or account, date, category, currency, amount in document currency); this
-- model only unions them and converts into the reporting currency.
with
    bookings as (
        select
            cast(null as varchar) as source_name,
            cast(null as varchar) as source_id,
            cast(null as varchar) as customer_id,
            cast(null as varchar) as account_id,
            cast(null as date) as cost_date,
            cast(null as varchar) as cost_category,
            cast(null as varchar) as currency,
            cast(null as decimal(18, 2)) as amount_document_currency,
            cast(null as varchar) as source_file,
            cast(null as bigint) as source_row,
            cast(null as varchar) as detail
        where false
        {% for s in kam_cost_sources() if s.allocation == "direct" %}
            union all
            select
                source_name,
                source_id,
                customer_id,
                account_id,
                cost_date,
                cost_category,
                currency,
                amount_document_currency,
                source_file,
                source_row,
                detail
            from {{ ref(s.model) }}
        {% endfor %}
    )

select
    coalesce(a.account_id, b.account_id) as account_id,
    b.customer_id,
    cast(date_trunc('month', b.cost_date) as date) as month,
    b.cost_date,
    b.cost_category,
    'direct' as allocation,
    b.currency,
    b.amount_document_currency,
    fx.rate as fx_rate,
    {{ to_reporting("b.amount_document_currency") }} as amount,
    b.source_name,
    b.source_id,
    b.source_file,
    b.source_row,
    b.detail
from bookings as b
left join
    {{ ref("int_customer_accounts") }} as a on b.customer_id = a.customer_id
    {{ fx_join("b", "currency", "cost_date") }}
