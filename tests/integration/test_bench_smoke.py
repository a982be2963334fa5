"""Smoke test of the benchmark harness: at a tiny scale the three implementations agree.

It runs the real thing (a generated data set, `kam refresh` as a child process, the bare
DuckDB script and the pandas baseline) and asserts agreement and complete reports, never a
timing.
"""

import csv
import json

from bench.harness import run_benchmark
from bench.report import write_all


def test_harness_runs_all_three_and_they_agree(tmp_path):
    logged = []
    run = run_benchmark(
        [3000], overhead_lines=None, cache_dir=tmp_path / "cache", log=logged.append
    )
    names = {r.implementation for r in run.results if r.status == "ok"}
    assert names == {"pipeline", "duckdb", "pandas"}
    assert any("agree: pipeline, duckdb, pandas" in line for line in logged)
    kav = run.totals[3000]["key_account_value"]
    assert kav["rows"] > 0
    assert kav["key_account_value"] == (
        kav["gross_revenue"] - kav["revenue_deductions"] - kav["cogs"] - kav["relationship_costs"]
    )
    assert kav["relationship_costs"] == run.totals[3000]["cost_to_serve"]["amount"]

    pipeline = run.result(3000, "pipeline")
    assert set(pipeline.stages) >= {"startup", "ingest", "dbt", "gx", "publish", "orchestration"}
    assert pipeline.peak_rss_mb > 0 and pipeline.peak_processes >= 2  # kam + its dbt child
    assert pipeline.detail["dbt_models"] > 0 and pipeline.detail["dbt_tests"] > 0

    paths = write_all(run, tmp_path / "results")
    rows = list(csv.DictReader(paths["csv"].open()))
    assert {r["implementation"] for r in rows} == {"pipeline", "duckdb", "pandas"}
    assert json.loads(paths["json"].read_text())["totals"]["3000"]["cost_to_serve"]["rows"] > 0
    assert "agree row by row" in paths["markdown"].read_text()
    assert paths["chart"].stat().st_size > 0 and paths["memory_chart"].stat().st_size > 0
