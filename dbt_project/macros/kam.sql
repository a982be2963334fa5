{#
    Key-account configuration. config/scoring.yml and config/lifecycle.yml are validated in
    Python (orchestration/kam/config.py) and passed to dbt as the vars kam_scoring and
    kam_lifecycle; the scoring and lifecycle models generate their SQL from them.
#}
{% macro kam_scoring() -%}
    {%- set cfg = var("kam_scoring", none) -%}
    {%- if cfg is none -%}
        {%- if execute -%}
            {{
                exceptions.raise_compiler_error(
                    "dbt var kam_scoring is missing: run through `kam refresh`, which validates "
                    "config/scoring.yml and passes it to dbt"
                )
            }}
        {%- endif -%}
        {#- Parsing only (no values needed): an empty matrix. -#}
        {%- set cfg = {
            "scoring_dates": {"frequency": "quarter", "min_history_months": 12},
            "window_months": 12,
            "judgment_max_age_months": 24,
            "criteria": [],
            "designation": {
                "rule": "top_n",
                "top_n": 1,
                "min_total": none,
                "min_weight_coverage": "1",
            },
            "designation_effect": {
                "months_before": 12,
                "result_lag_months": 9,
                "months_after": 18,
            },
            "config_version": "unparsed",
        } -%}
    {%- endif -%}
    {%- do return(cfg) -%}
{%- endmacro %}

{% macro kam_lifecycle() -%}
    {%- set cfg = var("kam_lifecycle", none) -%}
    {%- if cfg is none -%}
        {%- if execute -%}
            {{
                exceptions.raise_compiler_error(
                    "dbt var kam_lifecycle is missing: run through `kam refresh`, which validates "
                    "config/lifecycle.yml and passes it to dbt"
                )
            }}
        {%- endif -%}
        {%- set cfg = {
            "trend_months": 12,
            "lost_after_months": 9,
            "first_contact": {"max_tenure_months": 12, "min_orders": 3},
            "expansion": {"min_revenue_growth": "0.2"},
            "recovery": {
                "max_revenue_growth": "-0.2",
                "complaint_months": 6,
                "min_complaints": 3,
                "min_complaint_rate": "10",
            },
            "config_version": "unparsed",
        } -%}
    {%- endif -%}
    {%- do return(cfg) -%}
{%- endmacro %}

{# The KAM team's judgment columns in the assessment file (each 1-10, partnership_stage 1-5). #}
{% macro kam_judgment_columns() -%}
    {%- do return(
        [
            "product_fit",
            "buying_process",
            "partner_potential",
            "existing_relationships",
            "cultural_fit",
            "geographic_proximity",
            "partnership_stage",
        ]
    ) -%}
{%- endmacro %}

{#
    How each known criterion is read from int_account_scoring_base: its raw value, the date of
    the judgment or estimate behind it, and why it is missing when it has no value. The list of
    criteria matches CRITERIA in orchestration/kam/config.py (a unit test checks it).
#}
{% macro kam_criterion(name) -%}
    {%- set age = kam_scoring().judgment_max_age_months -%}
    {%- set data = {
        "average_transaction_size": {
            "value": "average_transaction_size",
            "evidence": "null",
            "missing": "'no invoices in the scoring window'",
        },
        "revenue_potential": {
            "value": "growth_headroom",
            "evidence": "purchasing_potential_date",
            "missing": "case when purchasing_potential_date is null then "
            ~ "'no purchasing-potential estimate' else 'purchasing-potential estimate older "
            ~ "than "
            ~ age
            ~ " months' end",
        },
        "revenue_growth": {
            "value": "revenue_growth_pct",
            "evidence": "null",
            "missing": "case when not previous_window_in_data then 'the data does not cover the "
            ~ "previous window yet' else 'no net revenue in the previous window' end",
        },
        "tenure": {"value": "tenure_years", "evidence": "null", "missing": "'no start date'"},
        "solvency": {
            "value": "avg_days_late",
            "evidence": "null",
            "missing": "'no invoices due in the scoring window'",
        },
    } -%}
    {%- if name in data -%} {%- do return(data[name]) -%}
    {%- elif name in kam_judgment_columns() -%}
        {%- do return(
            {
                "value": "case when not " ~ name ~ "_stale then " ~ name ~ " end",
                "evidence": name ~ "_date",
                "missing": "case when "
                ~ name
                ~ "_date is null then 'no judgment in the account assessments' else "
                ~ "'latest judgment older than "
                ~ age
                ~ " months' end",
            }
        ) -%}
    {%- else -%} {{ exceptions.raise_compiler_error("unknown KAM criterion " ~ name) }}
    {%- endif -%}
{%- endmacro %}

{# 1-10 score of a value from ascending bands; the first band takes everything below the second. #}
{% macro kam_band_score(value, bands) -%}
    case
        when {{ value }} is null
        then null
        {%- for band in bands | reverse %}
            {%- if not loop.last %}
                when {{ value }} >= {{ band["from"] }} then {{ band.score }}
            {%- endif %}
        {%- endfor %}
        else {{ bands[0].score }}
    end
{%- endmacro %}


{#- When this run takes a key-account decision (UTC): the start of the dbt run. A macro, so a
    unit test can fix it (overrides: macros). -#}
{% macro kam_decision_time() -%} {{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }} {%- endmacro %}
