-- The KAM team's assessments per key account, with the purchasing-potential estimate in the
-- reporting currency (converted at the rate on or before the assessment date).
-- An assessment entered on a site's customer id counts for the site's account (its group).
select
    coalesce(c.account_id, a.assessed_id) as account_id,
    a.assessed_id,
    a.assessment_date,
    a.assessor,
    {% for j in kam_judgment_columns() %} a.{{ j }}, {% endfor %}
    a.currency,
    a.purchasing_potential as purchasing_potential_document_currency,
    {{ to_reporting("a.purchasing_potential", wide=true) }} as purchasing_potential,
    a.comment,
    a.source_file,
    a.source_row
from {{ ref("stg_erp__account_assessments") }} as a
left join
    {{ ref("int_customer_accounts") }} as c on c.customer_id = a.assessed_id
    {{ fx_join("a", "currency", "assessment_date") }}
