{#
    Financing driver: receivable amount x days / 365, in "reporting-currency years", rounded half
    up to 6 decimals with exact integer arithmetic (no floating point). Cost = this x the annual
    interest rate of the activity catalogue, rounded to the cent.
    Example: 12'345.67 CHF outstanding 17 days = 575.003808 CHF-years; at 4 % = 23.00 CHF.
#}
{% macro receivable_years(amount_expression, days_expression) -%}
    {#- round half up: floor((2 x cents x days x 10^4 + 365) / 730) micro-units; divide() is
        integer division (written as a function: SQL formatters take the operator for a comment).
        In BIGINT: a receivable piece lies within one month (days <= 31), so this is exact up to
        140 billion per invoice; beyond that DuckDB stops with an overflow error, never a wrong
        number. -#}
    cast(
        cast(
            divide(
                2
                * cast(round(({{ amount_expression }}) * 100) as bigint)
                * ({{ days_expression }})
                * 10000
                + 365,
                730
            ) as decimal(18, 0)
        )
        * 0.000001 as decimal(24, 6)
    )
{%- endmacro %}

{# The value of the as-of date for open receivables (dbt var as_of_date, from config). #}
{% macro as_of_date_sql(documents_relation) -%}
    {%- set as_of = var("as_of_date", "latest_data") -%}
    {%- if as_of == "latest_data" -%}
        (
            select max(greatest(invoice_date, coalesce(payment_date, invoice_date)))
            from {{ documents_relation }}
        )
    {%- else -%} date '{{ as_of }}'
    {%- endif -%}
{%- endmacro %}

{# What an unpriced receivable piece is, in words (int_unpriced_driver_volumes). #}
{% macro receivable_piece_detail(f) -%}
    'invoice '
    || {{ f }}.invoice_number
    || ': receivable '
    || {{ f }}.receivable
    || ' outstanding '
    || strftime({{ f }}.piece_start, '%d.%m.%Y')
    || '-'
    || strftime({{ f }}.piece_end - 1, '%d.%m.%Y')
{%- endmacro %}
