-- Revenue deductions (bonuses, cash discounts, rebates, promotions) in the reporting
-- currency,
-- booked in the month of their booking date.
select
    d.deduction_id,
    d.deduction_type,
    d.booking_date,
    cast(date_trunc('month', d.booking_date) as date) as month,
    a.account_id,
    d.customer_id,
    d.invoice_number,
    d.period_start,
    d.period_end,
    d.currency,
    d.amount as amount_document_currency,
    fx.rate as fx_rate,
    {{ to_reporting("d.amount") }} as amount,
    d.source_file,
    d.source_row
from {{ ref("stg_erp__deductions") }} as d
left join
    {{ ref("int_customer_accounts") }} as a on d.customer_id = a.customer_id
    {{ fx_join("d", "currency", "booking_date") }}
