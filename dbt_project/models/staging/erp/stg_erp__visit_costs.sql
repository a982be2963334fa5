select
    visit_id,
    customer_id,
    visit_date,
    employee,
    purpose,
    hours,
    hourly_rate,
    coalesce(travel_amount, 0) as travel_amount,
    coalesce(expense_amount, 0) as expense_amount,
    currency,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "visit_costs") }}
