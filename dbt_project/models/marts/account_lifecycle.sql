-- The relationship lifecycle per account and month (config/lifecycle.yml). Rules, applied in
-- this order (the first that matches gives the phase), with T = trend_months:
-- 1. lost           no invoice for lost_after_months months in a row (this month included);
-- a relationship that began within the data and never ordered stays in
-- first contact instead
-- 2. first_contact  relationship younger than first_contact.max_tenure_months months, or,
-- when it began within the data, fewer than first_contact.min_orders
-- invoices so far
-- 3. recovery       net revenue of the last T months <= (1 + recovery.max_revenue_growth) x
-- the T months before, or complaints rising: at least
-- recovery.min_complaints complaints and min_complaint_rate per 100 invoices
-- in the last C = recovery.complaint_months months, and more than in the C
-- months before
-- 4. expansion      net revenue of the last T months >= (1 + expansion.min_revenue_growth) x
-- the T months before, or revenue after none in the T months before
-- 5. consolidation  everything else: stable revenue (or growth not yet measurable) and no
-- complaint alert
-- Growth needs 2 x T months of the account in the data. Transitions: previous_phase,
-- is_transition (and the mart lifecycle_transitions).
{%- set life = kam_lifecycle() %}
{%- set t = life.trend_months %}
{%- set c = life.recovery.complaint_months %}
with
    months as (select * from {{ ref("int_account_months") }}),

    windows as (
        select
            *,
            sum(net_revenue) over recent as recent_net_revenue,
            sum(net_revenue) over prior as prior_net_revenue,
            sum(invoice_count) over recent_c as recent_invoices,
            sum(complaint_count) over recent_c as recent_complaints,
            coalesce(sum(complaint_count) over prior_c, 0) as prior_complaints,
            count(*) over (
                partition by account_id
                order by month rows between {{ 2 * t - 1 }} preceding and current row
            )
            = {{ 2 * t }} as growth_measurable,
            sum(invoice_count) over to_date as orders_to_date,
            max(case when invoice_count > 0 then month end) over to_date as last_order_month,
            min(month) over (partition by account_id) as lifecycle_start_month,
            datediff(
                'month', cast(date_trunc('month', customer_since) as date), month
            ) as tenure_months
        from months
        window
            recent as (
                partition by account_id
                order by month rows between {{ t - 1 }} preceding and current row
            ),
            prior as (
                partition by account_id
                order by month rows between {{ 2 * t - 1 }} preceding and {{ t }} preceding
            ),
            recent_c as (
                partition by account_id
                order by month rows between {{ c - 1 }} preceding and current row
            ),
            prior_c as (
                partition by account_id
                order by month rows between {{ 2 * c - 1 }} preceding and {{ c }} preceding
            ),
            to_date as (partition by account_id order by month rows unbounded preceding)
    ),

    measures as (
        select
            *,
            case
                when last_order_month is null
                then datediff('month', lifecycle_start_month, month) + 1
                else datediff('month', last_order_month, month)
            end as months_without_orders,
            case
                when growth_measurable and prior_net_revenue > 0
                then round(recent_net_revenue / prior_net_revenue - 1, 4)
            end as revenue_growth,
            case
                when recent_invoices > 0 then round(100.0 * recent_complaints / recent_invoices, 2)
            end as complaint_rate,
            recent_complaints >= {{ life.recovery.min_complaints }}
            and recent_complaints > prior_complaints
            and (
                recent_invoices = 0
                or 100.0 * recent_complaints / recent_invoices
                >= {{ life.recovery.min_complaint_rate }}
            ) as complaint_alert
        from windows
    ),

    phased as (
        select
            *,
            case
                when
                    months_without_orders >= {{ life.lost_after_months }}
                    and not (began_in_data and last_order_month is null)
                then 'lost'
                when
                    tenure_months < {{ life.first_contact.max_tenure_months }}
                    or (began_in_data and orders_to_date < {{ life.first_contact.min_orders }})
                then 'first_contact'
                when revenue_growth <= {{ life.recovery.max_revenue_growth }} or complaint_alert
                then 'recovery'
                when
                    revenue_growth >= {{ life.expansion.min_revenue_growth }}
                    or (growth_measurable and prior_net_revenue <= 0 and recent_net_revenue > 0)
                then 'expansion'
                else 'consolidation'
            end as phase
        from measures
    ),

    explained as (
        select
            *,
            case
                phase
                when 'lost'
                then 'no invoice for ' || months_without_orders || ' months'
                when 'first_contact'
                then
                    'relationship '
                    || tenure_months
                    || ' months old, '
                    || orders_to_date
                    || ' invoices so far'
                when 'recovery'
                then
                    case
                        when revenue_growth <= {{ life.recovery.max_revenue_growth }}
                        then
                            'net revenue '
                            || printf('%+.1f', 100 * revenue_growth)
                            || '% vs the previous {{ t }} months'
                        else
                            'complaints rising: '
                            || recent_complaints
                            || ' in {{ c }} months ('
                            || coalesce(printf('%.1f', complaint_rate), 'no')
                            || ' per 100 invoices) vs '
                            || prior_complaints
                            || ' before'
                    end
                when 'expansion'
                then
                    coalesce(
                        'net revenue '
                        || printf('%+.1f', 100 * revenue_growth)
                        || '% vs the previous {{ t }} months',
                        'first net revenue after {{ t }} months without'
                    )
                else
                    coalesce(
                        'stable: net revenue '
                        || printf('%+.1f', 100 * revenue_growth)
                        || '% vs the previous {{ t }} months',
                        'growth not measurable yet ({{ 2 * t }} months of data needed)'
                    )
            end as phase_rule,
            lag(phase) over (partition by account_id order by month) as previous_phase
        from phased
    ),

    runs as (
        select
            *,
            coalesce(previous_phase <> phase, false) as is_transition,
            sum(case when previous_phase is distinct from phase then 1 else 0 end) over (
                partition by account_id order by month rows unbounded preceding
            ) as phase_run
        from explained
    )

select
    account_id,
    month,
    phase,
    phase_rule,
    previous_phase,
    is_transition,
    min(month) over (partition by account_id, phase_run) as phase_start_month,
    datediff('month', min(month) over (partition by account_id, phase_run), month)
    + 1 as months_in_phase,
    tenure_months,
    cast(orders_to_date as bigint) as orders_to_date,
    months_without_orders,
    net_revenue,
    invoice_count,
    complaint_count,
    recent_net_revenue,
    prior_net_revenue,
    revenue_growth,
    cast(recent_invoices as bigint) as recent_invoices,
    cast(recent_complaints as bigint) as recent_complaints,
    cast(prior_complaints as bigint) as prior_complaints,
    complaint_rate,
    complaint_alert,
    '{{ life.config_version }}' as config_version
from runs
order by account_id, month
