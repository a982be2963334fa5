-- The scoring matrix per account and scoring date: each criterion's raw value, 1-10 score and
-- weight (columns <criterion>_value / _score / _weight, one set per criterion of
-- config/scoring.yml), the weighted total, the rank, key account yes/no under the current
-- matrix, and the room to grow (growth headroom = purchasing potential - current revenue).
-- Weighted total = sum(weight x score) / sum(weight) over the scored criteria: a missing
-- criterion is never scored; weight_coverage says how much of the matrix was scored, and only
-- accounts with weight_coverage >= designation.min_weight_coverage can be designated.
{%- set cfg = kam_scoring() %}
{%- set d = cfg.designation %}
with
    criteria as (select * from {{ ref("account_criterion_scores") }}),

    base as (select * from {{ ref("int_account_scoring_base") }}),

    totals as (
        select
            account_id,
            scoring_date,
            sum(weighted_score) as weighted_points,
            sum(weight) filter (where score is not null) as scored_weight,
            count(*) filter (where score is not null) as criteria_scored,
            count(*) filter (where score is null) as criteria_missing,
            string_agg(criterion, ', ' order by criterion) filter (
                where score is null
            ) as missing_criteria,
            {%- for c in cfg.criteria %}
                max(raw_value) filter (
                    where criterion = '{{ c.criterion }}'
                ) as {{ c.criterion }}_value,
                max(score) filter (
                    where criterion = '{{ c.criterion }}'
                ) as {{ c.criterion }}_score,
                cast({{ c.weight }} as decimal(7, 6)) as {{ c.criterion }}_weight,
            {%- endfor %}
        from criteria
        group by account_id, scoring_date
    ),

    ranked as (
        select
            *,
            cast(round(weighted_points / scored_weight, 3) as decimal(5, 3)) as weighted_total,
            cast(coalesce(scored_weight, 0) as decimal(7, 6)) as weight_coverage,
            weighted_total is not null
            and weight_coverage >= {{ d.min_weight_coverage }} as is_eligible,
            case
                when weighted_total is not null
                then
                    row_number() over (
                        partition by scoring_date
                        order by weighted_total desc nulls last, account_id
                    )
            end as rank,
            case
                when is_eligible
                then
                    row_number() over (
                        partition by scoring_date, is_eligible
                        order by weighted_total desc, account_id
                    )
            end as eligible_rank
        from totals
    ),

    designated as (
        select
            *,
            coalesce(
                is_eligible
                {%- if d.rule == "top_n" %} and eligible_rank <= {{ d.top_n }} {%- endif %}
                {%- if d.min_total is not none %}
                    and weighted_total >= {{ d.min_total }}
                {%- endif %},
                false
            ) as is_key_account
        from ranked
    )

select
    s.account_id,
    s.scoring_date,
    b.account_name,
    s.weighted_total,
    s.rank,
    s.eligible_rank,
    s.is_key_account,
    s.is_eligible,
    s.weight_coverage,
    s.criteria_scored,
    s.criteria_missing,
    s.missing_criteria,
    case
        when s.weighted_total is null
        then 'no criterion scored'
        when not s.is_eligible
        then
            'not eligible: weight coverage '
            || s.weight_coverage::decimal(4, 2)
            || ' below {{ d.min_weight_coverage }} (missing: '
            || s.missing_criteria
            || ')'
        {%- if d.min_total is not none %}
            when s.weighted_total < {{ d.min_total }}
            then 'total below the minimum {{ d.min_total }}'
        {%- endif %}
        {%- if d.rule == "top_n" %}
            when s.is_key_account
            then
                'key account: rank '
                || s.eligible_rank
                || ' of the eligible accounts (top {{ d.top_n }})'
            else
                'not in the top {{ d.top_n }}: rank '
                || s.eligible_rank
                || ' of the eligible accounts'
        {%- else %} else 'key account: total at least {{ d.min_total }}'
        {%- endif %}
    end as designation_reason,
    {%- for c in cfg.criteria %}
        s.{{ c.criterion }}_value, s.{{ c.criterion }}_score, s.{{ c.criterion }}_weight,
    {%- endfor %}
    b.current_annual_net_revenue,
    cast(
        case when not b.purchasing_potential_stale then b.purchasing_potential end as decimal(18, 2)
    ) as purchasing_potential,
    cast(b.growth_headroom as decimal(18, 2)) as growth_headroom,
    b.share_of_wallet,
    b.net_revenue_window,
    b.revenue_growth_pct,
    b.average_transaction_size,
    b.avg_days_late,
    b.share_paid_late,
    b.tenure_years,
    case when not b.partnership_stage_stale then b.partnership_stage end as partnership_stage,
    b.latest_assessment_date,
    b.window_start,
    '{{ d.rule }}' as designation_rule,
    '{{ cfg.config_version }}' as config_version
from designated as s
join base as b using (account_id, scoring_date)
order by s.scoring_date, s.rank nulls last, s.account_id
