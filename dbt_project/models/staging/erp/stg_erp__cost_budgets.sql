select
    account_id,
    year,
    cost_category,
    budget_amount,
    currency,
    -- budgets convert at the rate valid on 1 January of the budget year
    make_date(cast(year as integer), 1, 1) as rate_date,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "cost_budgets") }}
