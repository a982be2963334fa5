"""The Dagster code location loads, and its graph is wired the way write-audit-publish needs."""

from dagster import AssetKey

from orchestration.definitions import defs


def test_lineage_runs_from_raw_sources_through_dbt_to_publication():
    graph = defs.resolve_asset_graph()
    parents = {k: set(graph.get(k).parent_keys) for k in graph.get_all_asset_keys()}
    assert AssetKey(["erp", "invoice_lines"]) in parents[AssetKey(["stg_erp__invoice_lines"])]
    assert {
        AssetKey(["key_account_value"]),
        AssetKey(["cost_to_serve"]),
        AssetKey(["accounts"]),
    } <= parents[AssetKey(["publication"])]


def test_every_mart_has_a_blocking_gx_check_and_dbt_tests_are_checks():
    graph = defs.resolve_asset_graph()
    checks = {c.to_user_string() for c in graph.asset_check_keys}
    for mart in ("key_account_value", "cost_to_serve", "accounts"):
        assert f"{mart}:gx_{mart}" in checks
    assert "key_account_value:assert_revenue_reconciles_to_invoice_lines" in checks
    assert "erp/invoice_lines:raw_rows_reconcile" in checks
    specs = [spec for d in defs.asset_checks for spec in getattr(d, "check_specs", ())]
    # Every check blocks publishing, except the freshness warnings on the raw drops.
    assert all(spec.blocking for spec in specs if spec.name != "raw_files_fresh")
    assert not any(spec.blocking for spec in specs if spec.name == "raw_files_fresh")


def test_refresh_job_and_nightly_schedule_exist():
    job = defs.resolve_job_def("kam_refresh")
    assert job.executor_def.name == "in_process"
    schedule = defs.resolve_schedule_def("nightly_refresh")
    assert schedule.execution_timezone == "Europe/Zurich"


def test_key_account_marts_read_the_designation_log_and_are_published_after_checks():
    graph = defs.resolve_asset_graph()
    parents = {k: set(graph.get(k).parent_keys) for k in graph.get_all_asset_keys()}
    log = AssetKey(["kam_history", "designation_log"])
    assert log in parents[AssetKey(["int_designation_decisions"])]
    kam_marts = {
        "account_scores",
        "account_criterion_scores",
        "key_account_designations",
        "account_lifecycle",
        "lifecycle_transitions",
        "whale_curve",
        "kam_kpis",
        "kam_kpis_before_after",
    }
    assert {AssetKey([m]) for m in kam_marts} <= parents[AssetKey(["publication"])]
    checks = {c.to_user_string() for c in graph.asset_check_keys}
    assert {f"{m}:gx_{m}" for m in kam_marts} <= checks
