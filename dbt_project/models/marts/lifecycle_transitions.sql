-- Every change of lifecycle phase: account, month of the change, from and to, and the rule
-- that fired (see account_lifecycle).
select
    account_id,
    month,
    previous_phase as from_phase,
    phase as to_phase,
    phase_rule,
    datediff(
        'month', lag(month) over (partition by account_id order by month), month
    ) as months_since_previous_transition
from {{ ref("account_lifecycle") }}
where is_transition
order by account_id, month
