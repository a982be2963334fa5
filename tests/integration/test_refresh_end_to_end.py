"""End to end: generate raw files, run the whole Dagster job, check the published marts.

The expected revenue is computed here independently of the pipeline: plain Python `csv` and
`Decimal` over the raw German CSV files, converted at the given rates.
"""

import bisect
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from contextlib import closing
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.cli.runner import run_refresh
from orchestration.demo_data import generate
from orchestration.publish.folders import current_publication, parquet_files
from orchestration.scope.run_scope import RunScope
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.sources.contracts import cost_categories
from orchestration.steering.config import load_kam_config
from orchestration.transform.manifest import partitioned_marts
from orchestration.validate.gx import load_suite_dict, suite_tables
from orchestration.validate.marts import (
    mart_reduction,
    validate_compact,
    validate_rows,
    validation_connection,
)

CENT = Decimal("0.01")
MARTS = (
    "key_account_value",
    "cost_to_serve",
    "cost_lines",
    "financing_costs",
    "cost_budget_vs_actual",
    "accounts",
    "account_scores",
    "account_criterion_scores",
    "key_account_designations",
    "account_lifecycle",
    "lifecycle_transitions",
    "whale_curve",
    "kam_kpis",
)
PARTITIONED = ("cost_lines", "cost_to_serve")


def run_in(monkeypatch, data_dir: Path):
    monkeypatch.setenv("KAM_DATA_DIR", str(data_dir))
    return run_refresh()


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e")
    generate(data_dir / "raw", invoice_lines=6000, seed=7, fmt="csv", months=14)
    invoices = data_dir / "raw" / "invoice_lines"
    first = sorted(invoices.glob("*.csv"))[0]
    shutil.copy(first, invoices / f"{first.stem}_resent.csv")  # an exact re-export
    with pytest.MonkeyPatch.context() as mp:
        outcome = run_in(mp, data_dir)
    assert outcome.success, outcome.error
    return data_dir, outcome, first


def published(data_dir: Path, table: str) -> list[dict]:
    with duckdb.connect() as con:  # not the process-wide default connection other tests share
        publication = current_publication(data_dir / "published")
        rel = con.sql(f"SELECT * FROM '{parquet_files(publication, table)}'")
        return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def german(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def day(text: str) -> date:
    return datetime.strptime(text, "%d.%m.%Y").date()


def independent_gross_revenue(raw: Path, skip: Path) -> Decimal:
    rates = defaultdict(list)
    with (raw / "exchange_rates" / "exchange_rates.csv").open(encoding="utf-8-sig") as f:
        for r in csv.DictReader(f, delimiter=";"):
            if r["to_currency"] == "CHF":
                rates[r["from_currency"]].append((day(r["rate_date"]), german(r["rate"])))
    for series in rates.values():
        series.sort()
    total = Decimal(0)
    for path in sorted((raw / "invoice_lines").glob("*.csv")):
        if path == skip:
            continue
        with path.open(encoding="utf-8-sig") as f:
            for r in csv.DictReader(f, delimiter=";"):
                amount = (german(r["quantity"]) * german(r["unit_price"])).quantize(
                    CENT, ROUND_HALF_UP
                )
                rate = Decimal(1)
                if r["currency"] != "CHF":
                    series = rates[r["currency"]]
                    i = bisect.bisect_right([d for d, _ in series], day(r["invoice_date"])) - 1
                    rate = series[i][1]
                sign = -1 if r["document_type"] == "credit_note" else 1
                total += sign * (amount * rate).quantize(CENT, ROUND_HALF_UP)
    return total


def test_publishes_the_marts_as_parquet_and_duckdb(refreshed):
    data_dir, outcome, _ = refreshed
    current = current_publication(data_dir / "published")
    assert current == outcome.current
    con = duckdb.connect(str(current / "kam.duckdb"), read_only=True)
    manifest = json.loads((current / "manifest.json").read_text())
    for table in MARTS:
        count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert count > 0 and count == manifest["tables"][table], table
        if table in PARTITIONED:  # one file per month
            months = manifest["partitioned_marts"][table]["months"]
            assert sorted(p.name for p in (current / table).iterdir()) == [
                f"{m}.parquet" for m in sorted(months)
            ]
            assert len(months) >= 14 and not (current / f"{table}.parquet").exists()
            assert sum(m["rows"] for m in months.values()) == count
        else:
            assert (current / f"{table}.parquet").exists()
    # 14 months of data: one scoring date (2023-12-31); nobody designated later yet
    assert (current / "kam_kpis_before_after.parquet").exists()
    assert (current / "data_docs" / "index.html").exists()


def test_gross_revenue_equals_independent_sum_over_raw_lines_to_the_cent(refreshed):
    data_dir, _, resent = refreshed
    expected = independent_gross_revenue(
        data_dir / "raw", skip=resent.with_name(f"{resent.stem}_resent.csv")
    )
    actual = sum(r["gross_revenue"] for r in published(data_dir, "key_account_value"))
    assert actual == expected


def test_waterfall_identities_hold_on_every_row(refreshed):
    rows = published(refreshed[0], "key_account_value")
    for r in rows:
        assert r["revenue_deductions"] == (
            r["bonuses"] + r["cash_discounts"] + r["rebates"] + r["promotions"]
        )
        assert r["net_revenue"] == r["gross_revenue"] - r["revenue_deductions"]
        assert r["gross_margin"] == r["net_revenue"] - r["cogs"]
        assert r["key_account_value"] == r["gross_margin"] - r["relationship_costs"]
    assert any(r["key_account_value"] < 0 for r in rows), "demo data has value-destroying months"


def test_cost_to_serve_adds_up_to_relationship_costs(refreshed):
    data_dir = refreshed[0]
    by_month = defaultdict(Decimal)
    for r in published(data_dir, "cost_to_serve"):
        by_month[(r["account_id"], r["month"])] += r["amount"]
    kav = {
        (r["account_id"], r["month"]): r["relationship_costs"]
        for r in published(data_dir, "key_account_value")
    }
    assert {k: v for k, v in kav.items() if v} == dict(by_month)


def test_cost_lines_aggregate_exactly_to_cost_to_serve_and_relationship_costs(refreshed):
    data_dir = refreshed[0]
    lines = published(data_dir, "cost_lines")
    by_category, count, by_month = defaultdict(Decimal), defaultdict(int), defaultdict(Decimal)
    for r in lines:
        key = (r["account_id"], r["month"], r["cost_category"])
        by_category[key] += r["amount"]
        count[key] += 1
        by_month[(r["account_id"], r["month"])] += r["amount"]
    cts = {
        (r["account_id"], r["month"], r["cost_category"]): (r["amount"], r["cost_line_count"])
        for r in published(data_dir, "cost_to_serve")
    }
    assert cts == {k: (v, count[k]) for k, v in by_category.items()}
    kav = {
        (r["account_id"], r["month"]): r["relationship_costs"]
        for r in published(data_dir, "key_account_value")
    }
    assert {k: v for k, v in kav.items() if v} == {k: v for k, v in by_month.items() if v}
    assert sum(kav.values()) == sum(r["amount"] for r in lines)


def test_every_cost_category_is_fed_and_every_line_traced(refreshed):
    data_dir = refreshed[0]
    categories = {r["cost_category"] for r in published(data_dir, "cost_to_serve")}
    assert categories == set(cost_categories())
    for r in published(data_dir, "cost_lines"):
        assert r["source_file"] and r["source_row"] >= 1 and r["source_id"], r
        assert (data_dir / "raw" / r["source_file"]).is_file(), r["source_file"]  # relative
        if r["allocation"] == "activity":
            assert r["activity"] and r["driver"] and r["rate_source_row"] >= 1, r
            assert r["amount_document_currency"] == round(r["driver_quantity"] * r["rate"], 2)


def test_financing_and_budgets_reconcile(refreshed):
    data_dir = refreshed[0]
    fin = published(data_dir, "financing_costs")
    assert all(r["financing_cost"] == r["payment_terms_cost"] + r["late_payment_cost"] for r in fin)
    assert sum(r["late_payment_cost"] for r in fin) > 0 < sum(r["payment_terms_cost"] for r in fin)
    financing = {
        (r["account_id"], r["month"]): r["amount"]
        for r in published(data_dir, "cost_to_serve")
        if r["cost_category"] == "financing"
    }
    assert {(r["account_id"], r["month"]): r["financing_cost"] for r in fin} == financing
    bva = published(data_dir, "cost_budget_vs_actual")
    assert bva and all(r["variance"] == r["actual_to_date"] - r["budget"] for r in bva)
    assert any(r["variance"] > 0 for r in bva) and any(r["variance"] < 0 for r in bva)


def test_re_export_is_quarantined_as_duplicate_and_rows_reconcile(refreshed):
    data_dir, _, first = refreshed
    quarantine = published(data_dir, "quarantine")
    resent_rows = sum(1 for _ in first.open(encoding="utf-8-sig")) - 1
    assert len(quarantine) == resent_rows
    assert all(q["reason"].startswith("duplicate re-export of") for q in quarantine)
    for s in published(data_dir, "ingest_summary"):
        assert s["raw_rows"] == s["accepted_rows"] + s["quarantined_rows"]


def test_failed_gx_check_leaves_current_untouched(refreshed, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    shutil.copytree(refreshed[0], data_dir, symlinks=True)
    before = current_publication(data_dir / "published")
    files_before = sorted(p.name for p in before.iterdir())
    customers = data_dir / "raw" / "customers" / "customers.csv"
    text = customers.read_text(encoding="cp1252")
    # Valid for ingest and dbt, but not an ISO country code: the GX suite on accounts fails.
    customers.write_text(text.replace(";CH;", ";Schweiz;"), encoding="cp1252")

    outcome = run_in(monkeypatch, data_dir)

    assert not outcome.success
    assert "gx_accounts" in outcome.error
    assert current_publication(data_dir / "published") == before
    assert sorted(p.name for p in before.iterdir()) == files_before
    assert len([p for p in (data_dir / "published").iterdir() if not p.is_symlink()]) == 1


def test_designations_are_logged_after_publishing(refreshed):
    data_dir = refreshed[0]
    log = data_dir / "history" / "designation_log.parquet"
    logged = duckdb.connect().execute(f"SELECT count(*) FROM '{log}'").fetchone()[0]
    decisions = published(data_dir, "key_account_designations")
    assert logged == len(decisions) > 0  # one scoring date: one row each
    assert sum(d["is_key_account"] for d in decisions) == 8  # top 8 of config/scoring.yml
    scores = published(data_dir, "account_scores")
    assert {s["scoring_date"] for s in scores} == {date(2023, 12, 31)}
    assert all(1 <= s["weighted_total"] <= 10 for s in scores if s["weighted_total"] is not None)


def test_invalid_scoring_matrix_stops_the_refresh_before_publishing(
    refreshed, tmp_path, monkeypatch
):
    data_dir = tmp_path / "data"
    shutil.copytree(refreshed[0], data_dir, symlinks=True)
    before = current_publication(data_dir / "published")
    log = data_dir / "history" / "designation_log.parquet"
    log_before = log.read_bytes()
    bad = tmp_path / "scoring.yml"
    text = (Path(__file__).parents[2] / "config" / "scoring.yml").read_text(encoding="utf-8")
    bad.write_text(text.replace("criterion: tenure", "criterion: loyalty"), encoding="utf-8")
    monkeypatch.setenv("KAM_SCORING_CONFIG", str(bad))

    outcome = run_in(monkeypatch, data_dir)

    assert not outcome.success
    assert re.search(
        rf"{re.escape(str(bad))}, line \d+: criteria\.3\.criterion: unknown criterion 'loyalty'",
        outcome.error,
    ), outcome.error
    assert current_publication(data_dir / "published") == before
    assert log.read_bytes() == log_before


def copy_warehouse(refreshed, tmp_path, monkeypatch) -> Settings:
    """Settings of a data folder holding a copy of the refresh's working DuckDB."""
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    shutil.copy(refreshed[0] / "warehouse" / "kam.duckdb", data_dir / "warehouse" / "kam.duckdb")
    monkeypatch.setenv("KAM_DATA_DIR", str(data_dir))
    return Settings.load()


def validated_both_ways(settings: Settings, table: str):
    spec = load_suite_dict(table)
    with closing(validation_connection(settings, settings.warehouse_db, read_only=True)) as con:
        rows = validate_rows(con, settings, table, spec, "test")
        reduction = mart_reduction(
            table, spec, partitioned_marts().get(table), RunScope.everything()
        )
        return rows, validate_compact(con, settings, reduction, "test")


def failed(summary) -> list[tuple]:
    return sorted(
        (f["expectation"], str(f["column"]), f["unexpected_count"] or 0) for f in summary.failures
    )


def test_every_suite_decides_the_same_compactly_and_row_by_row(refreshed, tmp_path, monkeypatch):
    settings = copy_warehouse(refreshed, tmp_path, monkeypatch)
    for table in suite_tables():
        rows, compact = validated_both_ways(settings, table)
        assert rows.success and compact.success, (table, rows.failures, compact.failures)
        assert (compact.rows, compact.evaluated) == (rows.rows, rows.evaluated), table


@pytest.mark.parametrize(
    "mutation",
    [
        # a cost line converted a cent off, and one allocation priced at the wrong rate
        "UPDATE cost_lines SET amount = amount + 0.01 WHERE source_row IN (3, 5)",
        "UPDATE cost_lines SET rate = rate * 2 WHERE cost_line_id = (SELECT min(cost_line_id) "
        "FROM cost_lines WHERE allocation = 'activity')",
        # a line traced to no file, and a line without its cost_to_serve group
        "UPDATE cost_lines SET source_file = NULL, cost_category = 'training' "
        "WHERE cost_line_id = (SELECT max(cost_line_id) FROM cost_lines)",
        # a line exported twice
        "INSERT INTO cost_lines SELECT * FROM cost_lines LIMIT 2",
    ],
)
def test_cost_lines_of_a_refresh_fail_alike_compactly_and_row_by_row(
    refreshed, tmp_path, monkeypatch, mutation
):
    settings = copy_warehouse(refreshed, tmp_path, monkeypatch)
    with duckdb.connect(str(settings.warehouse_db)) as con:
        # cost_lines is a view (priced when read): mutate a stored copy of it instead
        con.execute("CREATE TABLE cost_lines_stored AS SELECT * FROM cost_lines")
        con.execute("DROP VIEW cost_lines")
        con.execute("ALTER TABLE cost_lines_stored RENAME TO cost_lines")
        con.execute(mutation)
    results = {t: validated_both_ways(settings, t) for t in ("cost_lines", "cost_to_serve")}
    for table, (rows, compact) in results.items():
        assert failed(compact) == failed(rows), table
    assert not results["cost_lines"][1].success


def test_dbt_unit_tests_pass_on_the_refreshed_warehouse(refreshed, tmp_path):
    """The SQL logic cases (`unit_tests:` beside the models) run here, not in every refresh:
    dbt needs the parents built to type the fixture rows, which the refresh above did."""
    data_dir, _, _ = refreshed
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(data_dir))
        settings = Settings.load()
    dbt_vars = {"reporting_currency": settings.reporting_currency, "as_of_date": "latest_data"}
    dbt_vars |= load_kam_config(settings.scoring_config, settings.lifecycle_config).dbt_vars()
    env = {**os.environ, **settings.dbt_env, "KAM_DBT_SCOPE_FILE": ""}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "--no-use-colors",
            "test",
            "--select",
            "test_type:unit",
            "--vars",
            json.dumps(dbt_vars),
            "--target-path",
            str(tmp_path / "target"),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:]
    summary = [line for line in done.stdout.splitlines() if "Done. PASS=" in line]
    counts = dict(part.split("=") for part in summary[0].split("Done. ")[1].split())
    assert counts["PASS"] == counts["TOTAL"] and int(counts["TOTAL"]) >= 20, summary[0]
