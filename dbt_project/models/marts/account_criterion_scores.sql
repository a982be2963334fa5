-- The scoring matrix applied: one row per account, scoring date and criterion of
-- config/scoring.yml, with the raw value, its 1-10 score and its weight. A criterion without a
-- value (no judgment, no invoices in the window, ...) is 'missing': no score, with the reason.
-- Judgments are the KAM team's 1-10 scores; data criteria (and partnership_stage) are mapped to
-- 1-10 by the bands in the config: on the value itself ('thresholds') or on the account's
-- percentile among the accounts with a value on the same date ('percentile', 0-100).
{%- set cfg = kam_scoring() %}
with
    base as (select * from {{ ref("int_account_scoring_base") }}),

    raw_values as (
        {%- for c in cfg.criteria %}
            {%- set read = kam_criterion(c.criterion) %}
            select
                account_id,
                scoring_date,
                '{{ c.criterion }}' as criterion,
                '{{ c.source }}' as criterion_source,
                '{{ c.unit }}' as unit,
                '{{ c.method }}' as scoring_method,
                cast({{ read.value }} as double) as raw_value,
                cast({{ read.evidence }} as date) as evidence_date,
                case when {{ read.value }} is null then {{ read.missing }} end as missing_reason,
                cast({{ c.weight }} as decimal(7, 6)) as weight
            from base
            {% if not loop.last %}
                union all
            {% endif %}
        {%- else %}
            select
                null::varchar as account_id,
                null::date as scoring_date,
                null::varchar as criterion,
                null::varchar as criterion_source,
                null::varchar as unit,
                null::varchar as scoring_method,
                null::double as raw_value,
                null::date as evidence_date,
                null::varchar as missing_reason,
                null::decimal(7, 6) as weight
            where false
        {%- endfor %}
    ),

    percentiles as (
        select
            *,
            case
                when raw_value is not null
                then
                    round(
                        100 * percent_rank() over (
                            partition by scoring_date, criterion, raw_value is null
                            order by raw_value
                        ),
                        4
                    )
            end as percentile
        from raw_values
    ),

    scored as (
        select
            *,
            case
                criterion
                {%- for c in cfg.criteria %}
                    when '{{ c.criterion }}'
                    then
                        {%- if c.method == "judgment" %} cast(raw_value as integer)
                        {%- elif c.method == "percentile" %}
                            {{ kam_band_score("percentile", c.bands) }}
                        {%- else %} {{ kam_band_score("raw_value", c.bands) }}
                        {%- endif %}
                {%- endfor %}
            end as score
        from percentiles
    )

select
    account_id,
    scoring_date,
    criterion,
    criterion_source,
    unit,
    scoring_method,
    raw_value,
    case when scoring_method = 'percentile' then percentile end as percentile,
    cast(score as integer) as score,
    weight,
    cast(weight * score as decimal(9, 6)) as weighted_score,
    case when score is null then 'missing' else 'scored' end as status,
    missing_reason,
    evidence_date,
    '{{ cfg.config_version }}' as config_version
from scored
order by scoring_date, account_id, criterion
