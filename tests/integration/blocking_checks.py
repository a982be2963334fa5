"""Every blocking check of the refresh job has an evaluation in a publishing run's events.

Dagster lets a publication 'proceed without gating' on a blocking check that emitted no
result; a test of a publishing run calls `assert_every_blocking_check_evaluated` so that such a
run fails the suite instead.
"""

from __future__ import annotations

from dagster import AssetCheckEvaluation, DagsterEventType, DagsterInstance


def blocking_checks() -> set[str]:
    """dbt tests, GX suites, ingest and cost checks: every blocking check of kam_refresh."""
    from orchestration.definitions import defs

    graph = defs.resolve_job_def("kam_refresh").asset_layer.asset_graph
    return {
        key.to_user_string() for key in graph.asset_check_keys if graph.get_check_spec(key).blocking
    }


def evaluations(instance: DagsterInstance, run_id: str) -> dict[str, AssetCheckEvaluation]:
    out = {}
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        data = entry.dagster_event.event_specific_data
        out[data.asset_check_key.to_user_string()] = data
    return out


def assert_every_blocking_check_evaluated(
    instance: DagsterInstance, run_id: str
) -> dict[str, AssetCheckEvaluation]:
    done = evaluations(instance, run_id)
    blocking = blocking_checks()
    missing = sorted(blocking - done.keys())
    assert not missing, f"blocking checks without a result on a publishing run: {missing}"
    assert len(blocking) > 100  # dbt tests, GX suites, ingest and cost checks
    assert all(done[k].passed for k in blocking)
    return done
