select
    deduction_id,
    customer_id,
    booking_date,
    deduction_type,
    amount,
    currency,
    invoice_number,
    period_start,
    period_end,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "deductions") }}
