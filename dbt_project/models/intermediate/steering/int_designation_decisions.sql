{{ config(materialized="table") }}
-- Every key-account decision: account x scoring date, with the scores it was taken under.
-- Decisions for scoring dates before the latest one come from the designation log of earlier
-- runs (source kam_history.designation_log) and are frozen: a later change of the matrix or
-- late-arriving data does not rewrite them. The latest scoring date, and any date after the
-- last frozen one, is decided now from account_scores. The publication step writes this table
-- back to the log after every check passed (orchestration/steering/history.py).
-- decided_at is when a decision was first taken: a decision this run takes again with the same
-- result keeps the time from the log, so a rerun on unchanged input publishes the same rows.
with
    log as (select * from {{ source("kam_history", "designation_log") }}),

    scores as (select * from {{ ref("account_scores") }}),

    latest as (select max(scoring_date) as scoring_date from scores),

    frozen as (
        select *
        from log
        where scoring_date < coalesce((select scoring_date from latest), date '9999-12-31')
    ),

    last_frozen as (select max(scoring_date) as scoring_date from frozen),

    decided_now as (
        select
            account_id,
            scoring_date,
            cast(weighted_total as decimal(5, 3)) as weighted_total,
            cast(weight_coverage as decimal(7, 6)) as weight_coverage,
            cast(rank as bigint) as rank,
            is_eligible,
            is_key_account,
            designation_reason,
            config_version
        from scores
        where scoring_date > coalesce((select scoring_date from last_frozen), date '0001-01-01')
    )

select
    account_id,
    scoring_date,
    cast(weighted_total as decimal(5, 3)) as weighted_total,
    cast(weight_coverage as decimal(7, 6)) as weight_coverage,
    cast(rank as bigint) as rank,
    is_eligible,
    is_key_account,
    designation_reason,
    config_version,
    cast(decided_at as timestamp) as decided_at,
    true as is_frozen
from frozen

union all

select
    d.*,
    -- the same decision as last time (every column equal): when it was first taken
    case
        when
            l.account_id is not null
            and d.weighted_total is not distinct from l.weighted_total
            and d.weight_coverage is not distinct from l.weight_coverage
            and d.rank is not distinct from l.rank
            and d.is_eligible is not distinct from l.is_eligible
            and d.is_key_account is not distinct from l.is_key_account
            and d.designation_reason is not distinct from l.designation_reason
            and d.config_version is not distinct from l.config_version
        then cast(l.decided_at as timestamp)
        else cast('{{ kam_decision_time() }}' as timestamp)
    end as decided_at,
    -- final once a later scoring date exists, whichever run recorded it
    d.scoring_date < (select scoring_date from latest) as is_frozen
from decided_now as d
left join log as l using (account_id, scoring_date)
