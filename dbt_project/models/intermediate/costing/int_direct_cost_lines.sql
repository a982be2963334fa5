-- Direct relationship costs: one row per row of every declared direct cost source (sources/*.yml
-- with a `cost:` section and allocation direct: service logs, visit costs, marketing bookings,
-- ...). Each declared source has a generated staging model stg_cost__<source> in the canonical
-- shape (customer or account, date, category, currency, amount in document currency); this
-- model only unions them and converts into the reporting currency.
with
    bookings as (
        -- no row, typed: the union holds when no direct source is declared
        select {{ cost_line_columns("booking", have=[]) }}
        where false
        {% for s in kam_cost_sources() if s.allocation == "direct" %}
            union all
            select {{ cost_line_columns("booking") }}
            from {{ ref(s.model) }}
        {% endfor %}
    )

select
    {{
        cost_line_columns(
            "direct",
            alias="b",
            exprs={
                "account_id": "coalesce(a.account_id, b.account_id)",
                "month": "cast(date_trunc('month', b.cost_date) as date)",
                "allocation": "'direct'",
                "fx_rate": "fx.rate",
                "amount": to_reporting("b.amount_document_currency"),
            },
        )
    }}
from bookings as b
left join
    {{ ref("int_customer_accounts") }} as a on b.customer_id = a.customer_id
    {{ fx_join("b", "currency", "cost_date") }}
