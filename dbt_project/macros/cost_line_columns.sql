{#
    The columns of a cost line, in the order of the mart cost_lines: the one list behind every
    select and union of cost lines (int_direct_cost_lines, int_activity_cost_lines,
    int_cost_lines, cost_lines). int_cost_lines unions its two inputs by position (DuckDB prunes
    unread columns only through a plain UNION ALL), so the order must be the same everywhere.

    cost_line_columns(shape, alias=none, have=none, exprs={}) renders the select list of the
    columns of `shape`, in that order:
    - shape: which columns (the shapes below);
    - alias: qualifies every column read as it is (`l.amount`);
    - have: what the relation read has, when it lacks columns of `shape` (a shape, or a list of
      columns; [] for none): the others become typed NULLs;
    - exprs: column -> SQL expression computed here instead of read.

    Shapes (each lists the columns it leaves out of the full list):
    - booking: a direct booking as a declared cost source's staging model stg_cost__<source>
      gives it (orchestration/costing/sources.py writes those, with the same columns);
    - allocation: a driver volume with the activity and rate that price it, not yet priced;
    - direct: int_direct_cost_lines (a booking in the reporting currency, no activity or rate);
    - line: int_activity_cost_lines, and both inputs of int_cost_lines;
    - mart: cost_lines (int_cost_lines is cost_line_id and line).
#}
{% macro cost_line_columns(shape, alias=none, have=none, exprs={}) -%}
    {%- set columns = [
        ("cost_line_id", "varchar"),
        ("account_id", "varchar"),
        ("customer_id", "varchar"),
        ("month", "date"),
        ("cost_date", "date"),
        ("cost_category", "varchar"),
        ("cost_category_label", "varchar"),
        ("allocation", "varchar"),
        ("activity", "varchar"),
        ("driver", "varchar"),
        ("driver_quantity", "decimal(24, 6)"),
        ("rate", "decimal(18, 6)"),
        ("rate_currency", "varchar"),
        ("rate_valid_from", "date"),
        ("rate_source_file", "varchar"),
        ("rate_source_row", "bigint"),
        ("currency", "varchar"),
        ("amount_document_currency", "decimal(18, 2)"),
        ("fx_rate", "decimal(18, 6)"),
        ("reporting_currency", "varchar"),
        ("amount", "decimal(18, 2)"),
        ("source_name", "varchar"),
        ("source_id", "varchar"),
        ("source_file", "varchar"),
        ("source_row", "bigint"),
        ("detail", "varchar"),
    ] -%}
    {#- only allocations have these -#}
    {%- set rate = [
        "activity",
        "driver",
        "driver_quantity",
        "rate",
        "rate_currency",
        "rate_valid_from",
        "rate_source_file",
        "rate_source_row",
    ] -%}
    {#- added by the conversion into the reporting currency -#}
    {%- set converted = ["allocation", "fx_rate", "amount"] -%}
    {#- added by the mart -#}
    {%- set mart = ["cost_line_id", "cost_category_label", "reporting_currency"] -%}
    {%- set left_out = {
        "booking": mart + converted + rate + ["month"],
        "allocation": mart + converted + ["currency", "amount_document_currency"],
        "direct": mart + rate,
        "line": mart,
        "mart": [],
    } -%}
    {%- for s in [shape, have] if s is string and s not in left_out -%}
        {{ exceptions.raise_compiler_error("cost_line_columns: unknown shape " ~ s) }}
    {%- endfor -%}
    {%- if have is string -%}
        {%- set have = columns | map(attribute=0) | reject("in", left_out[have]) | list -%}
    {%- endif -%}
    {%- set selected = [] -%}
    {%- for name, type in columns if name not in left_out[shape] -%}
        {%- if name in exprs -%} {%- do selected.append(exprs[name] ~ " as " ~ name) -%}
        {%- elif have is not none and name not in have -%}
            {%- do selected.append("cast(null as " ~ type ~ ") as " ~ name) -%}
        {%- else -%} {%- do selected.append((alias ~ "." if alias else "") ~ name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ selected | join(",\n") }}
{%- endmacro %}
