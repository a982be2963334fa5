-- One row per key account (customer group, or a standalone customer) with its sites.
with
    sites as (select * from {{ ref("int_customer_accounts") }}),

    revenue_by_site as (
        select
            customer_id,
            sum(gross_revenue) as gross_revenue,
            min(invoice_date) as first_invoice,
            max(invoice_date) as last_invoice
        from {{ ref("int_invoice_documents") }}
        group by all
    )

select
    s.account_id,
    any_value(s.account_name) as account_name,
    count(*) as site_count,
    string_agg(s.customer_id, ', ' order by s.customer_id) as site_ids,
    -- The country and currency of the account's largest site by revenue.
    first(s.country order by r.gross_revenue desc nulls last, s.customer_id) as country,
    first(s.invoicing_currency order by r.gross_revenue desc nulls last, s.customer_id) as currency,
    bool_and(s.is_standalone) as is_standalone,
    min(s.customer_since) as customer_since,
    min(r.first_invoice) as first_invoice_date,
    max(r.last_invoice) as last_invoice_date
from sites as s
left join revenue_by_site as r using (customer_id)
group by s.account_id
order by s.account_id
