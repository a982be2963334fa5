{#
    The scope of a run: every month (a full rebuild) or only the months whose input changed.

    The Dagster dbt asset passes it as the environment variable KAM_DBT_SCOPE (JSON, the
    RunScope.dbt_var() of orchestration/incremental/scope.py) rather than as a --vars entry:
    dbt re-parses the whole project whenever --vars change (about 5 s), and the scope changes
    on every run. A var kam_scope given by hand (--vars) takes precedence. The scope is
    read at execution time only: at parse time every model compiles as a full build.
#}
{% macro kam_scope() -%}
    {%- if not execute -%} {%- do return({"full": true, "months": []}) -%} {%- endif -%}
    {%- set scope = var("kam_scope", none) -%}
    {%- if scope is none -%}
        {%- set text = env_var("KAM_DBT_SCOPE", "") -%}
        {%- set scope = fromjson(text) if text else {"full": true} -%}
    {%- endif -%}
    {%- if scope.get("full", true) -%} {%- do return({"full": true, "months": []}) -%} {%- endif -%}
    {%- set months = [] -%}
    {%- for m in scope.get("months", []) -%}
        {%- if not modules.re.match("^[0-9]{4}-[0-9]{2}-01$", m | string) -%}
            {{
                exceptions.raise_compiler_error(
                    "kam_scope: months must be first days of months (yyyy-mm-01), got " ~ m
                )
            }}
        {%- endif -%}
        {%- do months.append(m | string) -%}
    {%- endfor -%}
    {%- do return({"full": false, "months": months | unique | sort}) -%}
{%- endmacro %}

{% macro kam_scope_is_full() -%} {%- do return(kam_scope().full) -%} {%- endmacro %}

{#
    A predicate selecting the rows of the months of the scope by a date (or month) column:
    consecutive months become one range, so DuckDB can skip row groups and Parquet files by
    their min/max statistics. `true` in a full scope, `false` for an empty one.
#}
{% macro in_scope(date_column) -%}
    {%- set scope = kam_scope() -%}
    {%- if scope.full -%} true
    {%- elif not scope.months -%} false
    {%- else -%}
        {%- set ranges = [] -%}
        {%- for m in scope.months -%}
            {%- set start = modules.datetime.date.fromisoformat(m) -%}
            {%- set end = (start + modules.datetime.timedelta(days=32)).replace(day=1) -%}
            {%- if ranges and ranges[-1].end == start -%} {%- do ranges[-1].update({"end": end}) -%}
            {%- else -%} {%- do ranges.append({"start": start, "end": end}) -%}
            {%- endif -%}
        {%- endfor -%}
        (
            {%- for r in ranges %}
                (
                    {{ date_column }} >= date '{{ r.start }}'
                    and {{ date_column }} < date '{{ r.end }}'
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
