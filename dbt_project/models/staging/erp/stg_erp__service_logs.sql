select
    ticket_id,
    customer_id,
    service_date,
    cost_category,
    hours,
    hourly_rate,
    coalesce(material_amount, 0) as material_amount,
    currency,
    description,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "service_logs") }}
