select
    shipment_id,
    customer_id,
    ship_date,
    invoice_number,
    service_level,
    packages,
    weight_kg,
    carrier,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "shipments") }}
