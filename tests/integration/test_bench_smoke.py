"""Smoke test of the benchmark harness: at a tiny scale the five implementations agree.

It runs the real thing (a generated data set, `kam refresh` as a child process, the bare DuckDB
script and the pandas baseline, each as the fair floor and as the two marts of the earlier
runs) and asserts agreement and complete reports, never a timing. The fair floors are compared
with the publication in every published column of key_account_value, cost_to_serve and
cost_lines, month file by month file; a change to how the product computes or publishes them
must be mirrored in bench/bare_duckdb.sql and bench/pandas_floor.py (and the money rules in the
two-mart variants), and this test says so when it is not.
"""

import csv
import json

import duckdb
import pytest

from bench.compare import MartOutput, MismatchError, verify
from bench.harness import IMPLEMENTATIONS, run_benchmark
from bench.report import write_all

LINES = 3000


def test_harness_runs_all_five_and_they_agree(tmp_path):
    logged = []
    cache = tmp_path / "cache"
    run = run_benchmark([LINES], overhead_lines=None, cache_dir=cache, log=logged.append)
    names = {r.implementation for r in run.results if r.status == "ok"}
    assert names == set(IMPLEMENTATIONS)
    assert any(f"agree: {', '.join(IMPLEMENTATIONS)}" in line for line in logged)
    totals = run.totals[LINES]
    kav, cts, lines = totals["key_account_value"], totals["cost_to_serve"], totals["cost_lines"]
    assert kav["rows"] > 0
    assert kav["key_account_value"] == (
        kav["gross_revenue"] - kav["revenue_deductions"] - kav["cogs"] - kav["relationship_costs"]
    )
    assert kav["relationship_costs"] == cts["amount"] == lines["amount"]
    assert lines["rows"] == cts["cost_line_count"] > 0

    # The fair floors wrote a publication's layout: the same month files as the product.
    publication = (cache / "work" / "pipeline" / "published" / "current").resolve()
    out = cache / "work" / "out" / str(LINES)
    for mart in ("cost_to_serve", "cost_lines"):
        months = sorted(p.name for p in (publication / mart).glob("*.parquet"))
        assert len(months) > 12
        for floor in ("duckdb_floor", "pandas_floor"):
            assert sorted(p.name for p in (out / floor / mart).glob("*.parquet")) == months
    # ... and every column counts: one detail text changed is a mismatch.
    month_file = sorted((out / "pandas_floor" / "cost_lines").glob("*.parquet"))[-1]
    duckdb.execute(
        f"COPY (SELECT * REPLACE (CASE WHEN row_number() OVER () = 1 THEN detail || '!' "
        f"ELSE detail END AS detail) FROM read_parquet('{month_file}')) "
        f"TO '{tmp_path / 'changed.parquet'}' (FORMAT parquet)"
    )
    (tmp_path / "changed.parquet").replace(month_file)
    outputs = [
        MartOutput("pipeline", publication, published=True),
        MartOutput("pandas_floor", out / "pandas_floor", published=True),
    ]
    with pytest.raises(MismatchError, match=f"cost_lines/{month_file.name}: 1 row"):
        verify(outputs)

    pipeline = run.result(LINES, "pipeline")
    assert set(pipeline.stages) >= {"startup", "ingest", "dbt", "gx", "publish", "orchestration"}
    assert pipeline.peak_rss_mb > 0 and pipeline.peak_processes >= 2  # kam + its dbt child
    assert pipeline.detail["dbt_models"] > 0 and pipeline.detail["dbt_tests"] > 0

    paths = write_all(run, tmp_path / "results")
    rows = list(csv.DictReader(paths["csv"].open()))
    assert {r["implementation"] for r in rows} == set(IMPLEMENTATIONS)
    assert json.loads(paths["json"].read_text())["totals"][str(LINES)]["cost_lines"]["rows"] > 0
    text = paths["markdown"].read_text()
    assert "agree row by row" in text and "cost_lines" in text
    assert "bare DuckDB (fair floor)" in text and "pandas (2 marts)" in text
    assert paths["chart"].stat().st_size > 0 and paths["memory_chart"].stat().st_size > 0
