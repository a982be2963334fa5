-- Key-account designation history (slowly changing dimension, type 2): one row per account and
-- period in which its status (key account or not) stayed the same, from the decisions in
-- int_designation_decisions. valid_from is the scoring date that opened the period, valid_to
-- the scoring date that ended it (exclusive; null = current). A status is in force on the days
-- valid_from <= day < valid_to. An account that drops off the list keeps its earlier rows and
-- the scores they were taken under; the history survives a full rebuild (data/history/).
with
    decisions as (
        select
            *,
            lag(is_key_account) over (
                partition by account_id order by scoring_date
            ) as previous_status
        from {{ ref("int_designation_decisions") }}
    ),

    numbered as (
        select
            *,
            sum(
                case
                    when previous_status is null or previous_status <> is_key_account then 1 else 0
                end
            ) over (partition by account_id order by scoring_date rows unbounded preceding)
            as period_number
        from decisions
    ),

    periods as (
        select
            account_id,
            period_number,
            any_value(is_key_account) as is_key_account,
            min(scoring_date) as valid_from,
            max(scoring_date) as last_scoring_date,
            count(*) as scoring_dates_in_period,
            first(weighted_total order by scoring_date) as opening_weighted_total,
            first(rank order by scoring_date) as opening_rank,
            first(weight_coverage order by scoring_date) as opening_weight_coverage,
            first(designation_reason order by scoring_date) as opening_reason,
            first(config_version order by scoring_date) as opening_config_version,
            first(decided_at order by scoring_date) as decided_at,
            last(weighted_total order by scoring_date) as latest_weighted_total,
            last(rank order by scoring_date) as latest_rank,
            bool_and(is_frozen) as is_frozen
        from numbered
        group by account_id, period_number
    ),

    names as (
        select account_id, any_value(account_name) as account_name
        from {{ ref("int_customer_accounts") }}
        group by all
    )

select
    p.account_id,
    n.account_name,
    cast(p.period_number as bigint) as period_number,
    case when p.is_key_account then 'key_account' else 'not_key_account' end as designation,
    p.is_key_account,
    case
        when p.period_number = 1
        then 'first_scoring'
        when p.is_key_account
        then 'designated'
        else 'removed'
    end as change,
    p.valid_from,
    lead(p.valid_from) over (partition by p.account_id order by p.valid_from) as valid_to,
    valid_to is null as is_current,
    p.last_scoring_date,
    p.scoring_dates_in_period,
    p.opening_weighted_total,
    p.opening_rank,
    p.opening_weight_coverage,
    p.opening_reason,
    p.latest_weighted_total,
    p.latest_rank,
    p.opening_config_version as config_version,
    p.decided_at,
    p.is_frozen
from periods as p
left join names as n using (account_id)
order by p.account_id, p.valid_from
