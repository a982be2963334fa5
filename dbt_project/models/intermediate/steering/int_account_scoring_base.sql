{{ config(materialized="table") }}  -- read by every criterion of the matrix
-- Everything the scoring matrix can use, per account and scoring date, before any score:
-- data-derived values over the scoring window and the latest judgments on or before the date.
-- Scored: every account whose relationship began by the scoring date and that has an invoice
-- or an assessment by then.
{%- set cfg = kam_scoring() %}
{%- set age = cfg.judgment_max_age_months %}
with
    dates as (select * from {{ ref("int_scoring_dates") }}),

    accounts as (
        select
            account_id,
            any_value(account_name) as account_name,
            min(customer_since) as customer_since
        from {{ ref("int_customer_accounts") }}
        group by all
    ),

    -- One row per document (invoice or credit note), amount in the reporting currency.
    documents as (
        select
            account_id,
            invoice_number,
            any_value(document_type) as document_type,
            min(invoice_date) as invoice_date,
            min(due_date) as due_date,
            min(payment_date) as payment_date,
            sum(gross_revenue) as amount
        from {{ ref("int_invoice_documents") }}
        group by account_id, invoice_number
    ),

    first_activity as (
        select account_id, min(activity_date) as first_activity_date
        from
            (
                select account_id, invoice_date as activity_date
                from documents
                union all
                select account_id, assessment_date
                from {{ ref("int_account_assessments") }}
            )
        group by all
    ),

    candidates as (
        select d.*, a.account_id, a.account_name, a.customer_since
        from dates as d
        join accounts as a on a.customer_since <= d.scoring_date
        join first_activity as f on f.account_id = a.account_id
        where f.first_activity_date <= d.scoring_date
    ),

    -- Invoices of the window (transaction size) and invoices due in the window (payment
    -- behaviour: days paid after the due date, an invoice still open counts until the date).
    invoice_window as (
        select
            scoring_date,
            account_id,
            count(*) filter (where invoice_date >= window_start) as invoices_in_window,
            sum(amount) filter (where invoice_date >= window_start) as invoiced_in_window,
            sum(amount) filter (where due_in_window) as due_in_window,
            sum(amount * days_late) filter (where due_in_window) as amount_days_late,
            sum(amount) filter (where due_in_window and days_late > 0) as paid_late_amount
        from
            (
                select
                    d.scoring_date,
                    d.window_start,
                    i.account_id,
                    i.invoice_date,
                    i.amount,
                    i.due_date between d.window_start and d.scoring_date as due_in_window,
                    greatest(
                        0,
                        datediff(
                            'day',
                            i.due_date,
                            case
                                when i.payment_date <= d.scoring_date
                                then i.payment_date
                                else d.scoring_date
                            end
                        )
                    ) as days_late
                from dates as d
                join
                    documents as i
                    on i.document_type = 'invoice'
                    and i.invoice_date <= d.scoring_date
                    and (i.invoice_date >= d.window_start or i.due_date >= d.window_start)
            )
        group by all
    ),

    revenue_window as (
        select
            d.scoring_date,
            k.account_id,
            sum(k.net_revenue) filter (where k.month >= d.window_start) as net_revenue_window,
            sum(k.net_revenue) filter (
                where k.month < d.window_start
            ) as net_revenue_previous_window
        from dates as d
        join
            {{ ref("key_account_value") }} as k
            on k.month >= d.previous_window_start
            and k.month <= d.scoring_date
        group by all
    ),

    -- Per judgment, the latest value entered on or before the scoring date (an empty cell in a
    -- later assessment does not erase an earlier judgment; an old one turns stale, see below).
    judgments as (
        select
            d.scoring_date,
            a.account_id,
            {% for j in kam_judgment_columns() + ["purchasing_potential"] %}
                arg_max(a.{{ j }}, (a.assessment_date, a.source_file, a.source_row)) filter (
                    where a.{{ j }} is not null
                ) as {{ j }},
                max(a.assessment_date) filter (where a.{{ j }} is not null) as {{ j }}_date,
            {% endfor %}
            max(a.assessment_date) as latest_assessment_date
        from dates as d
        join {{ ref("int_account_assessments") }} as a on a.assessment_date <= d.scoring_date
        group by all
    ),

    base as (
        select
            c.account_id,
            c.scoring_date,
            c.account_name,
            c.window_start,
            c.previous_window_start,
            c.previous_window_start >= c.data_first_month as previous_window_in_data,
            c.customer_since,
            round(datediff('day', c.customer_since, c.scoring_date) / 365.25, 2) as tenure_years,
            coalesce(w.invoices_in_window, 0) as invoices_in_window,
            case
                when w.invoices_in_window > 0
                then round(w.invoiced_in_window / w.invoices_in_window, 2)
            end as average_transaction_size,
            w.due_in_window as invoiced_amount_due_in_window,
            case
                when w.due_in_window > 0 then round(w.amount_days_late / w.due_in_window, 2)
            end as avg_days_late,
            case
                when w.due_in_window > 0
                then round(coalesce(w.paid_late_amount, 0) / w.due_in_window, 4)
            end as share_paid_late,
            coalesce(r.net_revenue_window, 0) as net_revenue_window,
            coalesce(r.net_revenue_previous_window, 0) as net_revenue_previous_window,
            cast(
                round(
                    coalesce(r.net_revenue_window, 0) * 12 / {{ cfg.window_months }}, 2
                ) as decimal(18, 2)
            ) as current_annual_net_revenue,
            case
                when
                    c.previous_window_start >= c.data_first_month
                    and r.net_revenue_previous_window > 0
                then round(100 * (r.net_revenue_window / r.net_revenue_previous_window - 1), 2)
            end as revenue_growth_pct,
            j.latest_assessment_date,
            {% for j in kam_judgment_columns() + ["purchasing_potential"] %}
                j.{{ j }},
                j.{{ j }}_date,
                coalesce(
                    j.{{ j }}_date < cast(c.scoring_date - interval {{ age }} month as date), false
                ) as {{ j }}_stale,
            {% endfor %}
        from candidates as c
        left join invoice_window as w using (account_id, scoring_date)
        left join revenue_window as r using (account_id, scoring_date)
        left join judgments as j using (account_id, scoring_date)
    )

select
    *,
    case
        when not purchasing_potential_stale then purchasing_potential - current_annual_net_revenue
    end as growth_headroom,
    case
        when not purchasing_potential_stale and purchasing_potential > 0
        then round(current_annual_net_revenue / purchasing_potential, 4)
    end as share_of_wallet
from base
