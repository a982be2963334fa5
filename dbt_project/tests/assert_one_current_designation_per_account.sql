{{ config(meta={"dagster": {"ref": {"name": "key_account_designations"}}}) }}
-- Every account with a decision has exactly one current designation, and its periods follow
-- each other without gaps or overlaps.
with
    periods as (
        select
            account_id,
            valid_from,
            valid_to,
            is_current,
            lead(valid_from) over (partition by account_id order by valid_from) as next_from
        from {{ ref("key_account_designations") }}
    )
select account_id, 'current rows: ' || count(*) filter (where is_current) as problem
from periods
group by account_id
having count(*) filter (where is_current) <> 1
union all
select account_id, 'gap or overlap at ' || valid_to
from periods
where next_from is distinct from valid_to
