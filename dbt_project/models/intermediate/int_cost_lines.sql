-- Every relationship-cost booking, one row per source row, with its category and
-- origin.
-- Direct costs: the source row names the customer.
with
    bookings as (
        select
            'service_logs' as source_name,
            ticket_id as source_id,
            customer_id,
            service_date as cost_date,
            cost_category,
            currency,
            {{ money("hours * hourly_rate") }} + material_amount as amount_document_currency,
            source_file,
            source_row
        from {{ ref("stg_erp__service_logs") }}

        union all

        select
            'visit_costs' as source_name,
            visit_id as source_id,
            customer_id,
            visit_date as cost_date,
            'consulting_and_visits' as cost_category,
            currency,
            {{ money("hours * hourly_rate") }}
            + travel_amount
            + expense_amount as amount_document_currency,
            source_file,
            source_row
        from {{ ref("stg_erp__visit_costs") }}
    )

select
    a.account_id,
    b.customer_id,
    b.cost_date,
    cast(date_trunc('month', b.cost_date) as date) as month,
    b.cost_category,
    b.currency,
    b.amount_document_currency,
    fx.rate as fx_rate,
    {{ to_reporting("b.amount_document_currency") }} as amount,
    'direct' as allocation,
    b.source_name,
    b.source_id,
    b.source_file,
    b.source_row
from bookings as b
left join
    {{ ref("int_customer_accounts") }} as a on b.customer_id = a.customer_id
    {{ fx_join("b", "currency", "cost_date") }}
