-- Generated from sources/visit_costs.yml (cost section) by kam; do not edit.
{% raw %}
select
    'visit_costs' as source_name,
    cast("visit_id" as varchar) as source_id,
    cast("customer_id" as varchar) as customer_id,
    cast(null as varchar) as account_id,
    cast("visit_date" as date) as cost_date,
    'consulting_and_visits' as cost_category,
    cast("currency" as varchar) as currency,
    cast(round("hours" * "hourly_rate", 2) + round(coalesce("travel_amount", 0), 2) + round(coalesce("expense_amount", 0), 2) as decimal(18, 2)) as amount_document_currency,
    'visit ' || coalesce(cast("visit_id" as varchar), '') || ' by ' || coalesce(cast("employee" as varchar), '') || ': ' || coalesce(cast("hours" as varchar), '') || ' h x ' || coalesce(cast("hourly_rate" as varchar), '') || coalesce(' + travel ' || cast("travel_amount" as varchar), '') || coalesce(' + expenses ' || cast("expense_amount" as varchar), '') || ' ' || coalesce(cast("currency" as varchar), '') || coalesce(' - ' || cast("purpose" as varchar), '') as detail,
    _source_file as source_file,
    _source_row as source_row
{% endraw %}
from {{ source("erp", "visit_costs") }}
