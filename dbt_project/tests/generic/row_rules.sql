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
    with
        {% for r in relationships %}
            parent_{{ loop.index }} as (select distinct {{ r.field }} as key from {{ r.to }}),
        {% endfor %}
        counts as (
            select
                {% for rule in rules %}
                    count(*) filter (where {{ rule.fails }}) as rule_{{ loop.index }},
                {% endfor %}
            from {{ model }} as m
            {% for r in relationships %}
                left join
                    parent_{{ loop.index }} as p{{ loop.index }}
                    on p{{ loop.index }}.key = m.{{ r.column }}
            {% endfor %}
        )
    select broken.rule, broken.failing_rows
    from
        counts,
        unnest(
            [
                {% for rule in rules %}
                    {'rule':'{{ rule.label }}', 'failing_rows':rule_{{ loop.index }}}
                    {%- if not loop.last %},{% endif %}
                {% endfor %}
            ]
        ) as u(broken)
    where broken.failing_rows > 0
{% endtest %}
