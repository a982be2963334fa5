{{ config(materialized="table") }}
-- Every key-account decision: account x scoring date, with the scores it was taken under.
-- Decisions for scoring dates before the latest one come from the designation log of earlier
-- runs (source kam_history.designation_log) and are frozen: a later change of the matrix or
-- late-arriving data does not rewrite them. The latest scoring date, and any date after the
-- last frozen one, is decided now from account_scores. The publication step writes this table
-- back to the log after every check passed (orchestration/kam/history.py).
{%- set cfg = kam_scoring() %}
with
    log as (select * from {{ source("kam_history", "designation_log") }}),

    scores as (select * from {{ ref("account_scores") }}),

    latest as (select max(scoring_date) as scoring_date from scores),

    frozen as (
        select *
        from log
        where scoring_date < coalesce((select scoring_date from latest), date '9999-12-31')
    ),

    last_frozen as (select max(scoring_date) as scoring_date from frozen)

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
    account_id,
    scoring_date,
    weighted_total,
    weight_coverage,
    cast(rank as bigint) as rank,
    is_eligible,
    is_key_account,
    designation_reason,
    config_version,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as decided_at,
    false as is_frozen
from scores
where scoring_date > coalesce((select scoring_date from last_frozen), date '0001-01-01')
