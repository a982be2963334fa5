-- Generated from sources/marketing_bookings.yml (cost section) by kam; do not edit.
{% raw %}
select
    'marketing_bookings' as source_name,
    cast("booking_id" as varchar) as source_id,
    cast("customer_id" as varchar) as customer_id,
    cast(null as varchar) as account_id,
    cast("booking_date" as date) as cost_date,
    cast("cost_category" as varchar) as cost_category,
    cast("currency" as varchar) as currency,
    cast(round("amount", 2) as decimal(18, 2)) as amount_document_currency,
    'booking ' || coalesce(cast("booking_id" as varchar), '') || coalesce(': ' || cast("campaign" as varchar), '') || coalesce(' (' || cast("vendor" as varchar) || ')', '') as detail,
    _source_file as source_file,
    _source_row as source_row
{% endraw %}
from {{ source("erp", "marketing_bookings") }}
