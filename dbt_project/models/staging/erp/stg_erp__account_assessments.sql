select
    account_id as assessed_id,
    assessment_date,
    assessor,
    product_fit,
    buying_process,
    partner_potential,
    existing_relationships,
    cultural_fit,
    geographic_proximity,
    partnership_stage,
    purchasing_potential,
    currency,
    comment,
    _source_file as source_file,
    _source_row as source_row
from {{ source("erp", "account_assessments") }}
