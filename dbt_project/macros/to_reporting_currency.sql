{#
    Conversion into the reporting currency, used by every intermediate model that reads money.
    Rule: an amount is rounded to the cent in its document currency first, then converted at the
    latest rate on or before its date and rounded to the cent again. Marts sum these cents, so
    totals reconcile exactly with any sum over the same lines.
#}
{% macro fx_join(alias, currency_column, date_column) -%}
    asof left join
        {{ ref("int_exchange_rates_to_reporting") }} as fx
        on fx.currency = {{ alias }}.{{ currency_column }}
        and {{ alias }}.{{ date_column }} >= fx.rate_date
{%- endmacro %}

{% macro to_reporting(amount_expression) -%}
    {{ money(money(amount_expression) ~ " * fx.rate") }}
{%- endmacro %}

{# Round half away from zero to the cent. #}
{% macro money(expression) -%} cast(round({{ expression }}, 2) as decimal(18, 2)) {%- endmacro %}
