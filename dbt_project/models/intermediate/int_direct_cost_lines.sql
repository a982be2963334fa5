-- Direct relationship costs: the source row names the customer and the category (or the source
-- implies it). One row per source row, in the reporting currency.
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
            source_row,
            'ticket '
            || ticket_id
            || ': '
            || hours
            || ' h x '
            || hourly_rate
            || case when material_amount <> 0 then ' + material ' || material_amount else '' end
            || ' '
            || currency
            || coalesce(' - ' || description, '') as detail
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
            source_row,
            'visit '
            || visit_id
            || ' by '
            || employee
            || ': '
            || hours
            || ' h x '
            || hourly_rate
            || ' + travel '
            || travel_amount
            || ' + expenses '
            || expense_amount
            || ' '
            || currency
            || coalesce(' - ' || purpose, '') as detail
        from {{ ref("stg_erp__visit_costs") }}

        union all

        select
            'marketing_bookings' as source_name,
            booking_id as source_id,
            customer_id,
            booking_date as cost_date,
            cost_category,
            currency,
            amount as amount_document_currency,
            source_file,
            source_row,
            'booking '
            || booking_id
            || coalesce(': ' || campaign, '')
            || coalesce(' (' || vendor || ')', '') as detail
        from {{ ref("stg_erp__marketing_bookings") }}
    )

select
    a.account_id,
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
