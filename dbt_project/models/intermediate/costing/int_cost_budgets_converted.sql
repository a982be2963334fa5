-- Planned relationship costs per account, year and category in the reporting currency,
-- converted at the rate valid on 1 January of the budget year (rounded to the cent).
select
    b.account_id,
    b.year,
    b.cost_category,
    b.currency,
    b.budget_amount as budget_document_currency,
    fx.rate as fx_rate,
    {{ to_reporting("b.budget_amount", wide=true) }} as budget,
    b.source_file,
    b.source_row
from {{ ref("stg_erp__cost_budgets") }} as b {{ fx_join("b", "currency", "rate_date") }}
