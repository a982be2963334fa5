{#
    Conversion into the reporting currency, used by every intermediate model that reads money.
    Rule: an amount is rounded to the cent in its document currency first, then converted at the
    latest rate on or before its date and rounded to the cent again. Marts sum these cents, so
    totals reconcile exactly with any sum over the same lines.

    fx_join finds that rate with an ASOF join. Given `dates_from` (the relation the rows come
    from, with the same currency and date columns), it runs the ASOF join only over the distinct
    (currency, date) pairs of that relation, a few thousand rows, and joins the rate back on
    both with a hash join: the same rate for every row, without sorting millions of wide rows.
#}
{% macro fx_join(alias, currency_column, date_column, dates_from=none) -%}
    {%- if dates_from is none -%}
        asof left join
            {{ ref("int_exchange_rates_to_reporting") }} as fx
            on fx.currency = {{ alias }}.{{ currency_column }}
            and {{ alias }}.{{ date_column }} >= fx.rate_date
    {%- else -%}
        left join
            (
                select d.currency, d.day, r.rate
                from
                    (
                        select distinct {{ currency_column }} as currency, {{ date_column }} as day
                        from {{ dates_from }}
                    ) as d
                asof left join
                    {{ ref("int_exchange_rates_to_reporting") }} as r
                    on r.currency = d.currency
                    and d.day >= r.rate_date
            ) as fx
            on fx.currency = {{ alias }}.{{ currency_column }}
            and fx.day = {{ alias }}.{{ date_column }}
    {%- endif %}
{%- endmacro %}

{% macro to_reporting(amount_expression) -%}
    {{ money(money(amount_expression) ~ " * fx.rate") }}
{%- endmacro %}

{# Round half away from zero to the cent. #}
{% macro money(expression) -%} cast(round({{ expression }}, 2) as decimal(18, 2)) {%- endmacro %}
