{#
    dbt unique test in two steps: group the 64-bit hashes of the values (8 bytes a row
    instead of the value itself, so millions of cost-line ids need a fraction of the memory),
    then compare the values themselves only where two hashes collide. The result is dbt's:
    every value that occurs more than once, with its count. DuckDB skips the second pass over
    the model when no hash collides.
#}
{% macro default__test_unique(model, column_name) %}
    with
        colliding as (
            select hash({{ column_name }}) as h
            from {{ model }}
            where {{ column_name }} is not null
            group by 1
            having count(*) > 1
        )
    select {{ column_name }} as unique_field, count(*) as n_records
    from {{ model }}
    where hash({{ column_name }}) in (select h from colliding)
    group by {{ column_name }}
    having count(*) > 1
{% endmacro %}
