{#
    The scope of a run: every month (a full rebuild) or only the months whose input changed.

    The Dagster dbt asset passes the path of the run's scope file (warehouse/state/scope.json,
    written by orchestration/scope/run_scope.py) in the environment variable
    KAM_DBT_SCOPE_FILE. Never the months themselves: a scope can hold any number of months, and
    an argument or environment value that grows with it stops dbt from starting (E2BIG). Not a
    --vars entry either: dbt re-parses the whole project whenever --vars change (about 5 s).
    The file is read here at execution time only (one small query for the ranges of
    consecutive months, about 10 ms, some 60 times in a month-scoped build; not at all with
    --full-refresh); at parse time every model compiles as a full build. A var kam_scope
    given by hand ({"full": false, "months": ["2025-03-01", ...]}) takes precedence.
    Returns {"full": bool, "ranges": [{"from": "yyyy-mm-01", "before": "yyyy-mm-01" or none}]}.
#}
{% macro kam_scope() -%}
    {%- if not execute -%} {%- do return({"full": true, "ranges": []}) -%} {%- endif -%}
    {%- set scope = var("kam_scope", none) -%}
    {%- if scope is not none -%} {%- do return(kam_scope_of_months(scope)) -%} {%- endif -%}
    {%- set path = env_var("KAM_DBT_SCOPE_FILE", "") -%}
    {#- --full-refresh rebuilds every month: no need to read the file (27 reads a run) -#}
    {%- if flags.FULL_REFRESH or not path -%}
        {%- do return({"full": true, "ranges": []}) -%}
    {%- endif -%}
    {%- set read -%}
        select
            coalesce(cast(json_extract(content, '$.full') as boolean), true),
            coalesce(cast(json_extract(content, '$.ranges') as varchar), '[]')
        from read_text({{ "'" ~ path | replace("'", "''") ~ "'" }})
    {%- endset -%}
    {%- set row = run_query(read).rows[0] -%}
    {%- if row[0] -%} {%- do return({"full": true, "ranges": []}) -%} {%- endif -%}
    {%- do return({"full": false, "ranges": fromjson(row[1])}) -%}
{%- endmacro %}

{# A scope given by hand as months: validated, and consecutive months merged into ranges. #}
{% macro kam_scope_of_months(scope) -%}
    {%- if scope.get("full", true) -%} {%- do return({"full": true, "ranges": []}) -%} {%- endif -%}
    {%- set ranges = [] -%}
    {%- for m in scope.get("months", []) | map("string") | unique | sort -%}
        {%- if not modules.re.match("^[0-9]{4}-[0-9]{2}-01$", m) -%}
            {{
                exceptions.raise_compiler_error(
                    "kam_scope: months must be first days of months (yyyy-mm-01), got " ~ m
                )
            }}
        {%- endif -%}
        {%- set start = modules.datetime.date.fromisoformat(m) -%}
        {%- set before = (start + modules.datetime.timedelta(days=32)).replace(day=1) -%}
        {%- if ranges and ranges[-1].before == m -%}
            {%- do ranges[-1].update({"before": before.isoformat()}) -%}
        {%- else -%} {%- do ranges.append({"from": m, "before": before.isoformat()}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return({"full": false, "ranges": ranges}) -%}
{%- endmacro %}

{% macro kam_scope_is_full() -%} {%- do return(kam_scope().full) -%} {%- endmacro %}

{#
    A predicate selecting the rows of the months of the scope by a date (or month) column: one
    range per run of consecutive months, bounded by constant dates, so DuckDB can skip row
    groups and Parquet files by their min/max statistics. `true` in a full scope, `false` for
    an empty one.
#}
{% macro in_scope(date_column) -%}
    {%- set scope = kam_scope() -%}
    {%- if scope.full -%} true
    {%- elif not scope.ranges -%} false
    {%- else -%}
        (
            {%- for r in scope.ranges %}
                (
                    {{ date_column }} >= date '{{ r["from"] }}'
                    {%- if r["before"] %}
                        and {{ date_column }} < date '{{ r["before"] }}'
                    {%- endif %}
                )
                {%- if not loop.last %} or{% endif %}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{#
    For the month-partitioned incremental models: the rows to compute in this run. A full
    rebuild (full scope, --full-refresh, or the table does not exist yet) computes every row;
    an incremental run only the months of the scope.
#}
{% macro in_run_scope(date_column) -%}
    {%- if is_incremental() -%} {{ in_scope(date_column) }} {%- else -%} true {%- endif -%}
{%- endmacro %}

{#
    count(*) over a view that names one of its columns: when a query names no column of a view,
    DuckDB keeps every column of it (a count(*) of int_activity_cost_lines would build every
    text column: 5x slower). `column is null` is never null, so every row is counted.
#}
{% macro count_rows(column) -%} count({{ column }} is null) {%- endmacro %}
