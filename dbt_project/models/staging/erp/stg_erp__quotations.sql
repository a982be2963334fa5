select
    quote_id,
    customer_id,
    quote_date,
    quote_type,
    hours,
    quoted_amount,
    currency,
    status,
    description,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "quotations") }}
