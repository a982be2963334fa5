{#
    Every combination of the columns occurs once. Hashes first (see the unique test), the
    values themselves only where hashes collide.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(", ") %}
    with
        colliding as (
            select hash({{ columns }}) as h from {{ model }} group by 1 having count(*) > 1
        )
    select {{ columns }}, count(*) as n
    from {{ model }}
    where hash({{ columns }}) in (select h from colliding)
    group by all
    having count(*) > 1
{% endtest %}
