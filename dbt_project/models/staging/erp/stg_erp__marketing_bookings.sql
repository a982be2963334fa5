select
    booking_id,
    customer_id,
    booking_date,
    cost_category,
    campaign,
    vendor,
    amount,
    currency,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "marketing_bookings") }}
