"""A company without the optional exports: only customers, invoice lines and exchange rates
(a data set converted from TPC-H has no budgets, no CRM, no service log). `kam refresh`
publishes every mart; cost_budget_vs_actual is empty and the summary says why. Without a
required source the refresh stops at its ingest, naming it, and published/current stays as it
was (a second, short run that fails in its first steps)."""

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from orchestration.cli.main import main
from orchestration.publish.folders import current_publication, parquet_files
from orchestration.sources.contracts import load_contracts

REQUIRED = ("customers", "invoice_lines", "exchange_rates")


def refresh(data: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(data))
        return CliRunner().invoke(main, ["refresh"])


@pytest.fixture(scope="module")
def minimal(tmp_path_factory):
    from orchestration.demo_data import generate

    data = tmp_path_factory.mktemp("minimal")
    generate(data / "raw", invoice_lines=2000, seed=5, fmt="csv", months=14)
    for folder in (data / "raw").iterdir():
        if folder.name not in REQUIRED:
            shutil.rmtree(folder)
    result = refresh(data)
    assert result.exit_code == 0, result.output[-3000:]
    return data, result.output


def rows(data: Path, table: str) -> int:
    with duckdb.connect() as con:
        files = parquet_files(current_publication(data / "published"), table)
        return con.execute(f"SELECT count(*) FROM '{files}'").fetchone()[0]


def test_the_marts_publish_with_the_required_sources_only(minimal):
    data, _ = minimal
    assert rows(data, "cost_budget_vs_actual") == 0
    for mart in ("key_account_value", "cost_to_serve", "accounts", "account_scores"):
        assert rows(data, mart) > 0, mart


def test_the_summary_says_which_sources_had_no_rows(minimal):
    data, output = minimal
    notes = [line for line in output.splitlines() if line.startswith("note: ")]
    optional = sorted(n for n, c in load_contracts().items() if not c.required)
    assert [n.split()[1] for n in notes] == optional
    assert (
        f"note: cost_budgets had no rows (optional source; no file matches {data}/raw/"
        "cost_budgets/*): cost_budget_vs_actual is empty"
    ) in notes
    assert f"note: deductions had no rows (optional source; no file matches {data}/raw/" in output


@pytest.fixture(scope="module")
def without_invoices(minimal, tmp_path_factory):
    data, _ = minimal
    current = current_publication(data / "published")
    manifest = (current / "manifest.json").read_bytes()
    parked = tmp_path_factory.mktemp("parked") / "invoice_lines"
    shutil.move(data / "raw" / "invoice_lines", parked)
    try:
        result = refresh(data)
    finally:
        shutil.move(parked, data / "raw" / "invoice_lines")
    return data, result, current, manifest


def test_a_missing_required_source_stops_the_refresh_at_its_ingest(without_invoices):
    data, result, current, manifest = without_invoices
    assert result.exit_code == 1
    assert "refresh FAILED" in result.output
    assert "step erp__invoice_lines: " in result.output
    assert (
        f"required source invoice_lines has no rows: no file matches {data}/raw/invoice_lines/* "
        "(sources/invoice_lines.yml declares required: true)"
    ) in result.output
    assert "Running dbt command" not in result.output  # stopped before any model was built
    assert current_publication(data / "published") == current
    assert (current / "manifest.json").read_bytes() == manifest
    # the ingest stopped before it changed anything: the accepted invoice lines are all there
    assert len(list((data / "warehouse" / "ingested" / "invoice_lines").glob("*.parquet"))) > 1
