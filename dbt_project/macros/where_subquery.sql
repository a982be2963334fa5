{#
    Overrides dbt's get_where_subquery, which every generic test wraps its model in: besides the
    test's own `where` config, a test on a month-partitioned model (meta scope_column, or the
    partition_by of a published mart) checks only the months of the run scope, so its cost
    follows the size of the change. In a full scope every row is checked.
#}
{% macro get_where_subquery(relation) -%}
    {%- set predicates = [] -%}
    {%- set where = config.get("where", "") -%}
    {%- if where -%} {%- do predicates.append("(" ~ where ~ ")") -%} {%- endif -%}
    {%- set scope_columns = kam_scope_column(relation) -%}
    {%- if scope_columns and not kam_scope_is_full() -%}
        {%- for column in ([scope_columns] if scope_columns is string else scope_columns) -%}
            {%- do predicates.append(in_scope(column)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if predicates -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ predicates | join(" and ") }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%} {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#
    The column(s) that select the months of a model (meta scope_column: one column or a list, or
    the partition_by of a mart). A list names the month and the date it comes from (month and
    cost_date): the month reaches the receivable calendar, the date the sources' own date
    columns, where DuckDB skips row groups and files by their min/max.
#}
{% macro kam_scope_column(relation) -%}
    {%- if not execute or relation is none or relation.identifier is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type in ("model", "seed") and node.alias == relation.identifier -%}
            {%- set meta = node.config.get("meta", {}) -%}
            {%- do return(meta.get("scope_column") or meta.get("partition_by")) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}
