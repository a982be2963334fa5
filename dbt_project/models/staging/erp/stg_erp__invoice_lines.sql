select
    invoice_number,
    line_number,
    invoice_date,
    customer_id,
    product_id,
    quantity,
    unit_price,
    currency,
    document_type,
    standard_cost_per_unit,
    due_date,
    payment_date,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "invoice_lines") }}
