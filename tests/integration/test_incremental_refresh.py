"""Nightly incremental refreshes over several days of drops equal a full rebuild, row for row.

Day 1 holds 13 months of history; day 2 brings a daily drop of invoice lines (and the month's
delivery notes); day 3 the next drop, a late credit note for a closed month (three months
back), and a changed file (an old month re-sent with one corrected price). Each day runs the
incremental refresh; at the end a full rebuild of the same raw files in an empty folder must
publish exactly the same tables. The sequence stays within one scoring year, so key-account
decisions are taken on the same data both ways (only `decided_at`, the time a decision was first
taken, differs: the rebuild in an empty folder has no designation log of its own).
"""

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from orchestration.cli.runner import run_refresh
from orchestration.demo_data import generate
from orchestration.scope.pending import month_range
from tests.integration.blocking_checks import assert_every_blocking_check_evaluated

# Published tables and the columns that legitimately differ between two data folders.
RUN_SPECIFIC = {"key_account_designations": ["decided_at"]}


def refresh(monkeypatch, data_dir: Path, full: bool = False):
    monkeypatch.setenv("KAM_DATA_DIR", str(data_dir))
    instance = DagsterInstance.ephemeral()
    outcome = run_refresh(instance=instance, full=full)
    assert outcome.success, outcome.error
    # Nightly runs leave dbt nodes alone: every blocking check still has its result.
    assert_every_blocking_check_evaluated(instance, outcome.run_id)
    return json.loads((data_dir / "warehouse" / "state" / "built.json").read_text())


def published(data_dir: Path) -> dict[str, list[tuple]]:
    """Every published table, rows sorted, run-specific columns left out."""
    current = data_dir / "published" / "current"
    tables = {}
    with duckdb.connect() as con:
        for path in sorted(current.glob("*.parquet")) + sorted(
            p for p in current.iterdir() if p.is_dir() and p.name != "data_docs"
        ):
            name = path.stem if path.is_file() else path.name
            source = f"'{path}'" if path.is_file() else f"'{path}/*.parquet'"
            rel = con.sql(
                f"SELECT * EXCLUDE ({', '.join(RUN_SPECIFIC[name])}) FROM {source}"
                if name in RUN_SPECIFIC
                else f"SELECT * FROM {source}"
            )
            tables[name] = sorted(rel.fetchall(), key=repr)
    return tables


def months(first: date, last: date) -> list[str]:
    return [m.isoformat() for m in month_range(first, last)]


def ship_months(path: Path) -> set[str]:
    rows = csv.DictReader(path.open(encoding="utf-8-sig"), delimiter=";")
    return {f"{r['ship_date'][6:]}-{r['ship_date'][3:5]}-01" for r in rows}


def split_by_day(path: Path, cut: str) -> tuple[str, str]:
    """The header plus the lines invoiced up to `cut` (dd.mm.yyyy), and the header plus the rest."""
    text = path.read_text(encoding="utf-8-sig")
    header, *lines = text.splitlines(keepends=True)
    day = lambda ln: date(*map(int, reversed(ln.split(";")[2].split("."))))  # noqa: E731
    cut_day = date(*map(int, reversed(cut.split("."))))
    early = [ln for ln in lines if day(ln) <= cut_day]
    return header + "".join(early), header + "".join(ln for ln in lines if ln not in early)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("generated") / "raw"
    generate(raw, invoice_lines=2500, seed=3, fmt="csv", months=14)  # 2023-01 .. 2024-02
    return raw


def test_incremental_days_equal_a_full_rebuild(generated, tmp_path, monkeypatch):
    data = tmp_path / "nightly"
    raw = data / "raw"
    shutil.copytree(generated, raw)
    invoices, shipments = raw / "invoice_lines", raw / "shipments"
    held_back = tmp_path / "held_back"
    held_back.mkdir()
    shutil.move(invoices / "invoice_lines_2024-02.csv", held_back / "invoices.csv")
    shutil.move(shipments / "shipments_2024-02.csv", held_back / "shipments.csv")
    first_half, second_half = split_by_day(held_back / "invoices.csv", "14.02.2024")

    built = refresh(monkeypatch, data)  # day 1: the history
    assert built["scope"]["full"] is True

    # day 2: the first daily drop of February and the month's delivery notes
    (invoices / "2024-02-14.csv").write_text(first_half, encoding="utf-8")
    shutil.copy(held_back / "shipments.csv", shipments / "shipments_2024-02.csv")
    as_of = date.fromisoformat(built["as_of"])
    built = refresh(monkeypatch, data)
    # February's lines, the delivery notes' ship months (some shipped on 31 January), and the
    # months between the old and the new as-of date (open receivables accrue up to it)
    expected = set(months(as_of, date(2024, 2, 1))) | ship_months(held_back / "shipments.csv")
    assert built["scope"] == {"full": False, "months": sorted(expected)}
    as_of = date.fromisoformat(built["as_of"])

    # day 3: the next drop, a late credit note for November, a re-sent June with one fix
    (invoices / "2024-02-29.csv").write_text(second_half, encoding="utf-8")
    customer = next(
        csv.reader(
            (invoices / "invoice_lines_2023-11.csv").open(encoding="utf-8-sig"), delimiter=";"
        )
    )  # header
    (invoices / "2024-02-29_late_credit_note.csv").write_text(
        ";".join(customer)
        + "\n"
        + "G2024900001;1;20.11.2023;C000001;P0001;2,000;150,00;CHF;credit_note;90,00;20.11.2023;30.11.2023\n",
        encoding="utf-8",
    )
    june = invoices / "invoice_lines_2023-06.csv"
    header, first, *rest = june.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    fields = first.split(";")
    fields[6] = "999,99"  # the corrected unit price of the first line
    june.write_text(header + ";".join(fields) + "".join(rest), encoding="utf-8")
    invoiced = date(*map(int, reversed(fields[2].split("."))))
    paid = fields[11].strip()
    last = date(*map(int, reversed(paid.split(".")))) if paid else date(2024, 2, 1)
    built = refresh(monkeypatch, data)
    expected = {"2023-11-01"}  # the credit note: its month only
    expected |= set(months(invoiced, last))  # the corrected invoice accrues financing until paid
    expected |= set(months(as_of, date(2024, 2, 1)))  # the new drop, the as-of date moved
    assert built["scope"] == {"full": False, "months": sorted(expected)}

    full = tmp_path / "full"
    shutil.copytree(raw, full / "raw")
    refresh(monkeypatch, full, full=True)
    incremental_tables, full_tables = published(data), published(full)
    assert incremental_tables.keys() == full_tables.keys()
    for table in full_tables:
        assert incremental_tables[table] == full_tables[table], table
