"""A full data set whose budget export holds its header only: the refresh publishes,
cost_budget_vs_actual is empty (its GX row count asks for exactly 0 rows in this run, because
its suite names cost_budgets in meta.empty_if_no_rows_in), every other mart is as usual, and
the run's summary has one note, about the budgets."""

import duckdb
import pytest

from orchestration.cli.runner import run_refresh
from orchestration.publish.folders import current_publication, parquet_files
from orchestration.sources.suite_refs import marts_empty_without, sources_needed
from orchestration.transform.manifest import load_manifest
from orchestration.validate.gx import load_suite_dict, suite_tables

BUDGETS_HEADER = "account_id;year;cost_category;budget_amount;currency\n"


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    from orchestration.demo_data import generate

    data = tmp_path_factory.mktemp("header_only_budgets")
    generate(data / "raw", invoice_lines=2000, seed=9, fmt="csv", months=14)
    budgets = data / "raw" / "cost_budgets"
    for path in budgets.iterdir():
        path.unlink()
    (budgets / "cost_budgets_2024.csv").write_text(BUDGETS_HEADER, encoding="utf-8-sig")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(data))
        outcome = run_refresh()
    assert outcome.success, outcome.error
    return data, outcome


def rows(data, table: str) -> int:
    with duckdb.connect() as con:
        files = parquet_files(current_publication(data / "published"), table)
        return con.execute(f"SELECT count(*) FROM '{files}'").fetchone()[0]


def test_budget_vs_actual_publishes_empty_and_the_rest_as_usual(refreshed):
    data, outcome = refreshed
    assert outcome.notes == (
        "cost_budgets had no rows (optional source; 1 file(s) without data rows): "
        "cost_budget_vs_actual is empty",
    )
    assert rows(data, "cost_budget_vs_actual") == 0
    for mart in ("key_account_value", "cost_lines", "cost_to_serve", "kam_kpis", "whale_curve"):
        assert rows(data, mart) > 0, mart


def test_every_source_a_suite_names_is_upstream_of_its_mart_in_dbt(refreshed):
    """meta.empty_if_no_rows_in agrees with dbt's lineage (the manifest of this refresh)."""
    parents = load_manifest()["parent_map"]
    assert marts_empty_without("cost_budgets") == ["cost_budget_vs_actual"]
    for mart in suite_tables():
        seen, todo = set(), [f"model.kam_warehouse.{mart}"]
        while todo:
            for parent in parents.get(todo.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        for source in sources_needed(load_suite_dict(mart)):
            assert f"source.kam_warehouse.erp.{source}" in seen, (mart, source)
