{#
    Several row rules of one relation checked in a single pass over it (for the long relations,
    where a pass per rule costs seconds): columns that must not be null, accepted values,
    expressions that must hold (null counts as false) and references that must exist in a parent.
    Each has the semantics of the dbt test of the same name. Fails with one row per broken rule:
    the rule and the number of rows breaking it.
#}
{% test row_rules(
    model,
    not_null=[],
    accepted_values={},
    expressions=[],
    relationships=[]
) %}
    {%- set rules = [] -%}
    {%- for c in not_null -%}
        {%- do rules.append({"name": "not_null " ~ c, "fails": c ~ " is null"}) -%}
    {%- endfor -%}
    {%- for c, values in accepted_values.items() -%}
        {%- set listed = [] -%}
        {%- for v in values -%}
            {%- do listed.append("'" ~ (v | string | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
        {%- do rules.append(
            {
                "name": "accepted_values " ~ c ~ ": " ~ values | join(", "),
                "fails": c ~ " not in (" ~ listed | join(", ") ~ ")",
            }
        ) -%}
    {%- endfor -%}
    {%- for e in expressions -%}
        {%- do rules.append({"name": "expression " ~ e, "fails": "not coalesce(" ~ e ~ ", false)"}) -%}
    {%- endfor -%}
    {%- for r in relationships -%}
        {%- do rules.append(
            {
                "name": "relationship " ~ r.column ~ " -> " ~ (r.to | string) ~ "." ~ r.field,
                "fails": "m." ~ r.column ~ " is not null and p" ~ loop.index ~ ".key is null",
            }
        ) -%}
    {%- endfor -%}
    {%- for rule in rules -%}
        {%- do rule.update({"label": rule.name | replace("'", "''")}) -%}
    {%- endfor %}
    {%- if rules | length == 0 or rules | length > 62 -%}
        {{ exceptions.raise_compiler_error("row_rules: between 1 and 62 rules per test") }}
    {%- endif %}
    with
        {% for r in relationships %}
            parent_{{ loop.index }} as (select distinct {{ r.field }} as key from {{ r.to }}),
        {% endfor %}
        -- each row's broken rules as the bits of one number, counted per number: one cheap
        -- aggregate (usually a single group, 0) instead of a filtered count per rule
        masks as (
            select
                {% for rule in rules %}
                    (case when coalesce({{ rule.fails }}, false) then 1 else 0 end)
                    * {{ 2 ** (loop.index0) }}
                    {%- if not loop.last %} +{% endif %}
                {% endfor %} as broken,
                count(*) as n
            from (select * from {{ model }}) as m
            {% for r in relationships %}
                left join
                    parent_{{ loop.index }} as p{{ loop.index }}
                    on p{{ loop.index }}.key = m.{{ r.column }}
            {% endfor %}
            group by 1
        )
    select r.rule, sum(masks.n) as failing_rows
    from
        masks,
        (
            values
                {% for rule in rules %}
                    ('{{ rule.label }}', {{ 2 ** (loop.index0) }})
                    {%- if not loop.last %},{% endif %}
                {% endfor %}
        ) as r(rule, bit)
    where masks.broken & r.bit <> 0
    group by r.rule
{% endtest %}
