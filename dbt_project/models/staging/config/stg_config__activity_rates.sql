select
    activity,
    cost_category,
    driver,
    rate,
    currency as rate_currency,
    valid_from,
    valid_to,
    -- exclusive end, so that a date d is priced by the version with valid_from <= d < valid_until
    coalesce(valid_to + 1, date '9999-12-31') as valid_until,
    description,
    _source_file as source_file,
    _source_row as source_row
from {{ source("config", "activity_rates") }}
