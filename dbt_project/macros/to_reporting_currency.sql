{#
    Conversion into the reporting currency, used by every intermediate model that reads money.
    Rule: an amount is rounded to the cent in its document currency first, then converted at the
    latest rate on or before its date and rounded to the cent again. Marts sum these cents, so
    totals reconcile exactly with any sum over the same lines.

    fx_join finds that rate in int_fx_daily (one row per currency and day, the ASOF answer
    computed once per run): a hash join on (currency, day), the same rate for every row, without
    sorting millions of wide rows as an ASOF join over the rows themselves would.
#}
{% macro fx_join(alias, currency_column, date_column) -%}
    left join
        {{ ref("int_fx_daily") }} as fx
        on fx.currency = {{ alias }}.{{ currency_column }}
        and fx.day = {{ alias }}.{{ date_column }}
{%- endmacro %}

{#
    wide=true for amounts that can pass 10^10 in their currency (an account's purchasing
    potential, a yearly budget): DECIMAL(18, 2) x DECIMAL(18, 6) is multiplied in 64 bits and
    overflows there. The wide product (128 bits) costs about 40x more, so line-level amounts keep
    the narrow one.
#}
{% macro to_reporting(amount_expression, wide=false) -%}
    {%- if wide -%}
        {{ money("cast(" ~ money(amount_expression) ~ " as decimal(38, 2)) * fx.rate") }}
    {%- else -%} {{ money(money(amount_expression) ~ " * fx.rate") }}
    {%- endif -%}
{%- endmacro %}

{# Round half away from zero to the cent. #}
{% macro money(expression) -%} cast(round({{ expression }}, 2) as decimal(18, 2)) {%- endmacro %}
