"""Benchmark harness parts: scales, measuring a child process, agreement checks, reporting."""

import re
import sys
from dataclasses import asdict
from pathlib import Path

import duckdb
import pytest

from bench.compare import MartOutput, MismatchError, verify
from bench.datasets import parse_scale, scale_label
from bench.harness import BenchmarkRun, Result, pandas_fits, pipeline_stages, slopes
from bench.measure import MB, CommandFailed, run_measured
from bench.nightly import NightlyResult
from bench.report import markdown, targets, write_all


@pytest.mark.parametrize(
    ("text", "lines"),
    [("20k", 20_000), ("1M", 1_000_000), ("10m", 10_000_000), ("2500", 2500), ("1.5M", 1_500_000)],
)
def test_scales_are_parsed_and_labelled(text, lines):
    assert parse_scale(text) == lines
    assert parse_scale(scale_label(lines)) == lines


@pytest.mark.parametrize("text", ["", "ten", "1G", "-5", "0"])
def test_bad_scales_are_refused(text):
    with pytest.raises(ValueError, match="scale"):
        parse_scale(text)


def test_measures_peak_memory_of_the_whole_process_tree(tmp_path):
    # A parent that starts a child; each holds ~120 MB at the same time for a moment.
    child = "import time; b = b'x' * (120 * 1024 * 1024); time.sleep(0.6)"
    parent = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', {child!r}])\n"
        "b = b'x' * (120 * 1024 * 1024)\n"
        "p.wait()\n"
    )
    m = run_measured([sys.executable, "-c", parent], stdout_path=tmp_path / "out")
    assert m.returncode == 0
    assert m.peak_processes >= 2
    assert m.peak_tree_rss > 200 * MB  # both at once, not just the larger one
    assert 120 * MB < m.peak_process_rss < 200 * MB  # the kernel's high-water mark of one
    assert m.cpu_seconds > 0
    assert m.timeline and m.timeline[0][0] >= 0


def test_failing_command_raises_with_its_stderr(tmp_path):
    with pytest.raises(CommandFailed, match="boom"):
        run_measured(
            [sys.executable, "-c", "import sys; sys.exit('boom')"],
            stderr_path=tmp_path / "err",
        )


def _marts(folder: Path, revenue_cents: int, *, cents: bool) -> MartOutput:
    folder.mkdir(parents=True)
    con = duckdb.connect()
    money = "BIGINT" if cents else "DECIMAL(18,2)"
    value = revenue_cents if cents else revenue_cents / 100
    cols = [
        "gross_revenue",
        "bonuses",
        "cash_discounts",
        "rebates",
        "promotions",
        "revenue_deductions",
        "net_revenue",
        "cogs",
        "gross_margin",
        "relationship_costs",
        "key_account_value",
    ]
    sel = ", ".join(
        f"CAST({value if c in ('gross_revenue', 'net_revenue', 'gross_margin', 'key_account_value') else 0} AS {money}) AS {c}"
        for c in cols
    )
    con.execute(
        f"COPY (SELECT 'G1' AS account_id, DATE '2024-01-01' AS month, {sel}) "
        f"TO '{folder / 'key_account_value.parquet'}' (FORMAT parquet)"
    )
    con.execute(
        f"COPY (SELECT 'G1' AS account_id, DATE '2024-01-01' AS month, 'training' AS cost_category, "
        f"CAST(0 AS {money}) AS amount, 1 AS cost_line_count) "
        f"TO '{folder / 'cost_to_serve.parquet'}' (FORMAT parquet)"
    )
    con.close()
    return MartOutput(folder.name, folder, money_in_cents=cents)


def test_agreement_is_checked_in_cents_across_decimal_and_integer_outputs(tmp_path):
    a = _marts(tmp_path / "pipeline", 123456, cents=False)
    b = _marts(tmp_path / "pandas", 123456, cents=True)
    totals = verify([a, b])
    assert totals["key_account_value"]["gross_revenue"] == 123456
    assert totals["cost_to_serve"]["rows"] == 1


def test_one_cent_difference_stops_the_benchmark(tmp_path):
    a = _marts(tmp_path / "pipeline", 123456, cents=False)
    b = _marts(tmp_path / "duckdb", 123457, cents=False)
    with pytest.raises(MismatchError, match="key_account_value: 1 row"):
        verify([a, b])


def test_a_publication_with_cost_to_serve_in_month_files_is_compared_as_a_whole(tmp_path):
    pipeline = _marts(tmp_path / "pipeline", 123456, cents=False)
    months = pipeline.folder / "cost_to_serve"
    months.mkdir()
    duckdb.execute(
        f"COPY (SELECT 'G1' AS account_id, DATE '2024-01-01' AS month, 'training' AS "
        f"cost_category, CAST(0 AS DECIMAL(18,2)) AS amount, 1 AS cost_line_count) "
        f"TO '{months / '2024-01.parquet'}' (FORMAT parquet)"
    )
    duckdb.execute(
        f"COPY (SELECT 'G1' AS account_id, DATE '2024-02-01' AS month, 'training' AS "
        f"cost_category, CAST(1.5 AS DECIMAL(18,2)) AS amount, 2 AS cost_line_count) "
        f"TO '{months / '2024-02.parquet'}' (FORMAT parquet)"
    )
    (pipeline.folder / "cost_to_serve.parquet").unlink()
    baseline = _marts(tmp_path / "duckdb", 123456, cents=False)
    with pytest.raises(MismatchError, match="cost_to_serve: 1 row"):
        verify([pipeline, baseline])
    totals = verify([pipeline, pipeline])
    assert totals["cost_to_serve"] == {"rows": 2, "amount": 150, "cost_line_count": 3}


def test_missing_output_is_a_mismatch(tmp_path):
    a = _marts(tmp_path / "pipeline", 1, cents=False)
    with pytest.raises(MismatchError, match="is missing"):
        verify([a, MartOutput("pandas", tmp_path / "nowhere", True)])


def _publication(
    folder: Path, *, amount: str = "1.50", months=("2024-01", "2024-02")
) -> MartOutput:
    """A publication's three marts in its layout, one cost line per month."""
    base = _marts(folder, 123456, cents=False).folder
    (base / "cost_to_serve.parquet").unlink()
    for mart in ("cost_to_serve", "cost_lines"):
        (base / mart).mkdir()
    for label in months:
        line = (
            f"SELECT 'shipments:L{label}' AS cost_line_id, 'G1' AS account_id, "
            f"DATE '{label}-01' AS month, 'logistics' AS cost_category, "
            f"CAST({amount} AS DECIMAL(18,2)) AS amount, 'shipments/s.csv' AS source_file, "
            "CAST(3 AS BIGINT) AS source_row"
        )
        duckdb.execute(f"COPY ({line}) TO '{base / 'cost_lines' / label}.parquet' (FORMAT parquet)")
        duckdb.execute(
            f"COPY (SELECT account_id, month, cost_category, amount, CAST(1 AS BIGINT) AS "
            f"cost_line_count FROM ({line})) TO '{base / 'cost_to_serve' / label}.parquet' "
            "(FORMAT parquet)"
        )
    return MartOutput(folder.name, folder, published=True)


def test_publications_are_compared_file_by_file_in_every_column(tmp_path):
    pipeline = _publication(tmp_path / "pipeline")
    floor = _publication(tmp_path / "duckdb_floor")
    totals = verify([pipeline, floor])
    assert totals["cost_lines"] == {"rows": 2, "amount": 300}
    assert totals["cost_to_serve"] == {"rows": 2, "amount": 300, "cost_line_count": 2}


def test_one_cent_in_a_cost_line_stops_the_benchmark(tmp_path):
    pipeline = _publication(tmp_path / "pipeline")
    floor = _publication(tmp_path / "duckdb_floor", amount="1.51")
    with pytest.raises(
        MismatchError, match=re.escape("cost_lines/2024-01.parquet: 1 row(s) of pipeline")
    ):
        verify([pipeline, floor])


def test_a_publication_needs_the_same_columns_types_and_month_files(tmp_path):
    pipeline = _publication(tmp_path / "pipeline")
    fewer = _publication(tmp_path / "fewer", months=("2024-01",))
    with pytest.raises(MismatchError, match="cost_to_serve: month files differ"):
        verify([pipeline, fewer])
    typed = _publication(tmp_path / "typed")
    path = typed.folder / "cost_lines" / "2024-02.parquet"
    duckdb.execute(
        f"COPY (SELECT * REPLACE (CAST(amount AS DOUBLE) AS amount) FROM '{path}') "
        f"TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)"
    )
    (tmp_path / "x.parquet").replace(path)
    with pytest.raises(
        MismatchError, match=re.escape("amount DECIMAL(18,2) in pipeline, DOUBLE in typed")
    ):
        verify([pipeline, typed])
    moved = _publication(tmp_path / "moved")
    january = moved.folder / "cost_lines" / "2024-01.parquet"
    (moved.folder / "cost_lines" / "2024-02.parquet").replace(january)
    (moved.folder / "cost_lines" / "2024-02.parquet").write_bytes(january.read_bytes())
    with pytest.raises(
        MismatchError, match=re.escape("2024-01.parquet of moved: 1 row(s) of another month")
    ):
        verify([pipeline, moved])


def test_a_two_mart_output_is_compared_with_a_publication_on_the_two_marts(tmp_path):
    pipeline = _publication(tmp_path / "pipeline")
    two = _marts(tmp_path / "pandas", 123456, cents=True)
    with pytest.raises(
        MismatchError, match=re.escape("cost_to_serve: 2 row(s) of pipeline not in pandas")
    ):
        verify([pipeline, two])


def _run(results: list[Result], scales: list[int]) -> BenchmarkRun:
    run = BenchmarkRun(
        started_at="2026-01-01T00:00:00+00:00",
        machine={
            "cpu": "test cpu",
            "cores": 2,
            "memory_gb": 8,
            "os": "Linux",
            "python": "3.11",
            "packages": {
                "duckdb": "x",
                "dbt-core": "x",
                "dagster": "x",
                "great-expectations": "x",
                "pandas": "x",
            },
            "git_commit": "abc",
        },
        scales=scales,
    )
    run.results = results
    return run


def test_pandas_is_skipped_when_its_predicted_peak_does_not_fit(monkeypatch):
    run = _run([Result(1_000_000, "pandas", "ok", 10.0, 400.0)], [1_000_000])

    class Mem:
        available = 8 * 1024 * MB

    monkeypatch.setattr("bench.harness.psutil.virtual_memory", lambda: Mem)
    assert pandas_fits(run, 10_000_000) == (True, "")  # 400 MB x 10 x 1.3 = 5.2 GB < 8 GB
    fits, why = pandas_fits(run, 50_000_000)  # 26 GB > 8 GB
    assert not fits
    assert "skipped: predicted peak 25.4 GB" in why and "8.0 GB of memory available" in why


def test_stages_come_from_step_windows_and_the_gaps_between_them():
    timings = {
        "run_id": None,
        "step_windows": {
            "erp__customers": [10.0, 11.0],
            "erp__invoice_lines": [11.0, 15.0],
            "kam_dbt_models": [15.5, 25.5],
            "accounts_gx_accounts": [26.0, 29.0],
            "key_account_value_gx_key_account_value": [29.0, 29.5],
            "publication": [29.5, 30.0],
        },
        "timeline": {
            "cli_entered": 1.0,
            "called": 1.5,
            "definitions_loaded": 4.0,
            "run_finished": 30.5,
            "cli_done": 30.6,
        },
    }

    class M:
        wall_seconds = 31.0

    stages, detail = pipeline_stages(timings, 0.0, M)
    assert stages == {
        "startup": 4.0,
        "ingest": 5.0,
        "dbt": 10.0,
        "gx": 3.5,
        "publish": 0.5,
        "orchestration": 26.5 - 19.0,
    }
    assert detail["gx_first_check"] == 3.0
    assert detail["exit_after_run"] == 0.5


def test_report_states_targets_against_the_fair_floor_without_asserting_timings(tmp_path):
    results = []
    for lines, wall in ((1_000_000, 10.0), (10_000_000, 30.0)):
        results += [
            Result(lines, "pipeline", "ok", wall, 900.0, 800.0, 2, stages={"ingest": 1.0}),
            Result(lines, "duckdb_floor", "ok", wall / 3, 600.0, 600.0, 1),
            Result(lines, "duckdb", "ok", wall / 5, 500.0, 500.0, 1),
            Result(lines, "pandas_floor", "ok", wall * 2, 700.0, 700.0, 1),
        ]
    results += [Result(1_000_000, "pandas", "ok", 12.0, 400.0, 400.0, 1)]
    results += [Result(10_000_000, "pandas", "skipped", note="skipped: too big")]
    run = _run(results, [1_000_000, 10_000_000])
    fixed = {
        name: asdict(Result(10_000, name, "ok", wall, 100.0, 100.0, 1))
        for name, wall in (("pipeline", 9.5), ("duckdb_floor", 0.6), ("duckdb", 0.3))
    }
    run.overhead = {"lines": 10_000, **fixed} | slopes(run)
    nightly = NightlyResult(10_000_000, incremental_seconds=2.0, full_seconds=30.0)
    run.nightly = {**asdict(nightly), "ratio": nightly.ratio}
    text = markdown(run)
    assert "| 10M | pandas (2 marts) | skipped: too big |" in text
    # the ratio column is against the fair floor
    assert "| 10M | bare DuckDB (fair floor) | 10.0 |" in text and "| 1.00x |" in text
    assert "| 10M | bare DuckDB (2 marts) | 6.0 |" in text and "| 0.60x |" in text
    assert "| bare DuckDB (fair floor), same data (process incl. start) | 0.6 |" in text
    rows = {t: (v, ok) for t, v, ok in targets(run)}
    assert rows["10M: refresh <= 1.5 x fair floor + 10 s"] == (
        "30.0 s vs limit 25.0 s (fair floor 10.0 s)",
        "missed",
    )
    assert rows["10M: refresh faster than pandas doing the same work (pandas fair floor)"] == (
        "pandas 60.0 s / refresh 30.0 s = 2.00x",
        "met",
    )
    # slopes: refresh 20/9 s per million lines, the fair floor a third of it
    assert rows["slope: refresh <= 2 x the fair floor's slope"] == (
        "2.22 vs limit 1.48 s per million lines (fair floor 0.74)",
        "missed",
    )
    assert rows["fixed cost: a refresh of 10k lines <= 8 s"] == ("9.5 s", "missed")
    assert rows["nightly (10M history): incremental refresh <= 10% of a full refresh"] == (
        "2.0 s / 30.0 s = 6.7%",
        "met",
    )
    assert rows["50M: refresh peak memory < 2 GB"] == ("not measured", "-")
    assert run.overhead["pipeline_seconds_per_million"] == pytest.approx(20 / 9, abs=1e-3)
    assert run.overhead["pandas_floor_seconds_per_million"] == pytest.approx(40 / 9, abs=1e-3)
    docs = tmp_path / "benchmarks.md"
    docs.write_text("intro\n<!-- bench:results:begin -->\nold\n<!-- bench:results:end -->\nend\n")
    paths = write_all(run, tmp_path / "results", docs)
    csv_text = (tmp_path / "results" / "results.csv").read_text()
    assert csv_text.count("\n") == 1 + len(results)
    assert ",pandas_floor,pandas (fair floor),ok," in csv_text
    updated = docs.read_text()
    assert updated.startswith("intro\n") and updated.endswith("end\n") and "old" not in updated
    assert "Targets (measured, not asserted)" in updated
    if "chart" in paths:  # docs/benchmarks.md finds the charts from docs/
        assert "](../bench/results/chart.png)" in updated
    assert paths["json"].exists()


def test_targets_not_measured_say_so():
    run = _run([Result(1_000_000, "pipeline", "ok", 10.0, 900.0, 800.0, 2)], [1_000_000])
    assert {v for _, v, _ in targets(run)} <= {"not measured", "not measured (needs two scales)"}
    assert {ok for _, _, ok in targets(run)} == {"-"}


def test_nightly_drop_takes_the_last_days_and_leaves_the_data_set_untouched(tmp_path):
    from bench.nightly import _hold_back_drop, _link_tree

    src = tmp_path / "dataset"
    (src / "invoice_lines").mkdir(parents=True)
    (src / "shipments").mkdir()
    header = "invoice_number;line_number;invoice_date;rest\n"
    lines = [f"R{i};1;{d:02d}.12.2025;x\n" for i, d in enumerate([1, 2, 30, 30, 31, 31, 31])]
    (src / "invoice_lines" / "invoice_lines_2025-11.csv").write_text(header + "R0;1;05.11.2025;x\n")
    (src / "invoice_lines" / "invoice_lines_2025-12.csv").write_text(header + "".join(lines))
    ship = "shipment_id;customer_id;ship_date\nL1;C1;02.12.2025\nL2;C1;31.12.2025\n"
    (src / "shipments" / "shipments_2025-12.csv").write_text(ship)
    before = {p: p.read_bytes() for p in src.rglob("*.csv")}
    raw, held = tmp_path / "raw", tmp_path / "drop"
    _link_tree(src, raw)
    taken, days = _hold_back_drop(raw, held, target_lines=4)
    assert (taken, days) == (5, ["2025-12-30", "2025-12-31"])  # whole days, at least 4 lines
    assert (held / "invoice_lines" / "2025-12-31.csv").read_text().count("\n") == 1 + 5
    assert (raw / "invoice_lines" / "invoice_lines_2025-12.csv").read_text().count("\n") == 1 + 2
    assert (held / "shipments" / "2025-12-31.csv").read_text().endswith("L2;C1;31.12.2025\n")
    assert {p: p.read_bytes() for p in src.rglob("*.csv")} == before  # never written through


def test_nightly_comparison_finds_a_differing_row(tmp_path):
    import duckdb
    import pytest

    from bench.nightly import NightlyMismatch, compare_publications

    a, b = tmp_path / "a", tmp_path / "b"
    for pub, amount in ((a, 1), (b, 2)):
        (pub / "cost_lines").mkdir(parents=True)
        duckdb.execute(f"COPY (SELECT 1 AS x) TO '{pub}/accounts.parquet'")
        duckdb.execute(f"COPY (SELECT {amount} AS amount) TO '{pub}/cost_lines/2025-01.parquet'")
    with pytest.raises(NightlyMismatch, match="cost_lines: 2 rows differ"):
        compare_publications(a, b)
    assert compare_publications(a, a) == (2, 2)
