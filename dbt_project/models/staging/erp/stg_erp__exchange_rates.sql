select
    rate_date,
    from_currency,
    to_currency,
    rate,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "exchange_rates") }}
