{#
    Incremental strategy of the month-partitioned models (incremental_strategy
    replace_months): delete every row of the months of the scope, then insert the months just
    computed. The delete+insert of dbt-duckdb deletes only the keys present in the new rows,
    so a month whose rows all disappeared (a withdrawn file) would keep stale rows, and merge
    has the same gap. Deleting by month first leaves each scoped month exactly as a full build
    would. The partition column is `month` in every such model. A computed row outside the
    scope would be a bug in the scope filter of the model (a duplicate): it fails the run.
#}
{% macro get_incremental_replace_months_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    {%- set target = arg_dict["target_relation"] -%}
    delete from {{ arg_dict["target_relation"] }}
    where {{ in_scope("month") }}
    ;
    insert into {{ arg_dict["target_relation"] }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict["temp_relation"] }}
    where
        case
            when {{ in_scope("month") }}
            then true
            else error('{{ target.identifier }}: a row outside the run scope, month ' || month)
        end
{%- endmacro %}
