-- Generated from sources/service_logs.yml (cost section) by kam; do not edit.
{% raw %}
select
    'service_logs' as source_name,
    cast("ticket_id" as varchar) as source_id,
    cast("customer_id" as varchar) as customer_id,
    cast(null as varchar) as account_id,
    cast("service_date" as date) as cost_date,
    cast("cost_category" as varchar) as cost_category,
    cast("currency" as varchar) as currency,
    cast(round("hours" * "hourly_rate", 2) + round(coalesce("material_amount", 0), 2) as decimal(18, 2)) as amount_document_currency,
    'ticket ' || coalesce(cast("ticket_id" as varchar), '') || ': ' || coalesce(cast("hours" as varchar), '') || ' h x ' || coalesce(cast("hourly_rate" as varchar), '') || coalesce(' + material ' || cast("material_amount" as varchar), '') || ' ' || coalesce(cast("currency" as varchar), '') || coalesce(' - ' || cast("description" as varchar), '') as detail,
    _source_file as source_file,
    _source_row as source_row
{% endraw %}
from {{ source("erp", "service_logs") }}
