"""Incremental ingest: only new or changed files are parsed, and after any sequence of drops,
changes and removals the outputs equal an ingest of the same files from scratch."""

import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.load import ingest_source
from orchestration.scope.pending import read_pending
from orchestration.settings import Settings
from orchestration.sources.contracts import load_contracts
from tests.conftest import CUSTOMERS_HEADER, INVOICE_HEADER, RATES

SOURCES = ("exchange_rates", "customers", "invoice_lines")


def ingest_all(settings: Settings, reparse_all: bool = False) -> dict:
    contracts = load_contracts()
    return {n: ingest_source(contracts[n], settings, reparse_all=reparse_all) for n in SOURCES}


def outputs(settings: Settings) -> dict[str, list[tuple]]:
    with duckdb.connect() as con:
        out = {}
        for source in SOURCES:
            out[f"{source} accepted"] = con.execute(
                f"SELECT * FROM read_parquet('{settings.accepted_glob(source)}') "
                "ORDER BY _source_file, _source_row"
            ).fetchall()
            q = settings.quarantine_dir_of(source)
            out[f"{source} quarantine"] = (
                con.execute(
                    f"SELECT * FROM read_parquet('{q}/*.parquet') ORDER BY source_file, source_row"
                ).fetchall()
                if any(q.glob("*.parquet"))
                else []
            )
        return out


def from_scratch(settings: Settings, tmp_path: Path, monkeypatch) -> dict[str, list[tuple]]:
    """The same raw files ingested into an empty warehouse."""
    fresh = tmp_path / f"fresh{len(list(tmp_path.glob('fresh*')))}"
    shutil.copytree(settings.raw_dir, fresh / "raw")
    monkeypatch.setenv("KAM_DATA_DIR", str(fresh))
    try:
        other = Settings.load()
        ingest_all(other, reparse_all=True)
        return outputs(other)
    finally:
        monkeypatch.setenv("KAM_DATA_DIR", str(settings.data_dir))


def line(
    number: str, row: int, day: str, customer: str, price: str, paid: str = "", kind="invoice"
) -> str:
    return f"{number};{row};{day};{customer};P1;1;{price};CHF;{kind};1;{day};{paid}\n"


@pytest.fixture
def day_one(settings, write_raw):
    write_raw("exchange_rates", "rates.csv", RATES)
    write_raw(
        "customers",
        "customers_2024-01-01.csv",
        CUSTOMERS_HEADER + "C1;Müller GmbH;G1;Müller Gruppe;CH;CHF;01.01.2020;30;;\n",
    )
    write_raw(
        "invoice_lines",
        "2024-01-10.csv",
        INVOICE_HEADER
        + line("R1", 1, "10.01.2024", "C1", "100,00", "20.03.2024")
        + line("R2", 1, "10.01.2024", "C3", "50,00"),  # C3 unknown yet: quarantined
    )
    ingest_all(settings)
    return settings


def test_a_sequence_of_drops_equals_ingesting_from_scratch(
    day_one, write_raw, tmp_path, monkeypatch
):
    settings = day_one
    assert outputs(settings) == from_scratch(settings, tmp_path, monkeypatch)
    # day 2: a new drop, and the master data of C3 arrives: its earlier line is now accepted
    write_raw(
        "invoice_lines",
        "2024-01-11.csv",
        INVOICE_HEADER + line("R3", 1, "11.01.2024", "C3", "70,00"),
    )
    write_raw(
        "customers",
        "customers_2024-01-11.csv",
        CUSTOMERS_HEADER + "C3;Favre SA;;;CH;CHF;01.01.2024;30;;\n",
    )
    shutil.copy(  # and an exact re-export of day 1
        settings.raw_dir / "invoice_lines" / "2024-01-10.csv",
        settings.raw_dir / "invoice_lines" / "2024-01-10_resent.csv",
    )
    result = ingest_all(settings)["invoice_lines"]
    assert result.parsed_files == [
        "invoice_lines/2024-01-10_resent.csv",
        "invoice_lines/2024-01-11.csv",
    ]
    assert "invoice_lines/2024-01-10.csv" in result.rewritten_files  # R2 now accepted
    assert result.duplicate_rows == 2
    assert outputs(settings) == from_scratch(settings, tmp_path, monkeypatch)
    # day 3: a re-export of day 2, a file sorting before day 1 delivering R1 line 1 differently
    # (it becomes the first delivery: day 1's R1 is now the conflicting one), a withdrawn file
    shutil.copy(
        settings.raw_dir / "invoice_lines" / "2024-01-11.csv",
        settings.raw_dir / "invoice_lines" / "2024-01-11_resent.csv",
    )
    write_raw(
        "invoice_lines",
        "2024-01-09.csv",
        INVOICE_HEADER + line("R1", 1, "10.01.2024", "C1", "90,00", "20.03.2024"),
    )
    (settings.raw_dir / "customers" / "customers_2024-01-11.csv").unlink()  # C3 withdrawn
    results = ingest_all(settings)
    assert results["customers"].removed_files == ["customers/customers_2024-01-11.csv"]
    assert outputs(settings) == from_scratch(settings, tmp_path, monkeypatch)
    reasons = [r[3] for r in outputs(settings)["invoice_lines quarantine"]]
    assert any(
        r.startswith(
            "conflicting duplicate key first delivered in invoice_lines/2024-01-09.csv row 1"
        )
        for r in reasons
    )
    # C3 is gone again: R2 and R3 and their re-exports are unknown-customer rows (not
    # duplicates: only otherwise clean rows take part in the duplicate rule)
    assert sum(r.startswith("unknown customer_id 'C3'") for r in reasons) == 4


def test_nothing_is_parsed_or_written_again_when_nothing_changed(day_one):
    before = {p: p.stat().st_mtime_ns for p in day_one.ingested_dir.rglob("*-*.parquet")}
    results = ingest_all(day_one)
    assert all(not r.parsed_files and not r.rewritten_files for r in results.values())
    after = {p: p.stat().st_mtime_ns for p in day_one.ingested_dir.rglob("*-*.parquet")}
    assert after == before


def test_a_touched_file_with_the_same_content_is_not_parsed_again(day_one):
    path = day_one.raw_dir / "invoice_lines" / "2024-01-10.csv"
    os.utime(path, ns=(0, 0))
    result = ingest_all(day_one)["invoice_lines"]
    assert result.parsed_files == [] and result.rewritten_files == []


def test_a_changed_file_replaces_its_old_rows_and_marks_only_their_months(day_one, write_raw):
    pending_before = read_pending(day_one)
    write_raw(  # same name, new content: R1 line 1 now 120,00 (paid in March); R2 unchanged
        "invoice_lines",
        "2024-01-10.csv",
        INVOICE_HEADER
        + line("R1", 1, "10.01.2024", "C1", "120,00", "20.03.2024")
        + line("R2", 1, "10.01.2024", "C3", "50,00"),
    )
    result = ingest_all(day_one)["invoice_lines"]
    assert result.parsed_files == ["invoice_lines/2024-01-10.csv"]
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT invoice_number, unit_price FROM '{day_one.accepted_glob('invoice_lines')}'"
        ).fetchall()
    assert rows == [("R1", 120)]  # replaced, not added
    # the old and the new R1: invoiced in January, paid in March -> January to March
    assert result.footprint.months == {date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)}
    assert result.footprint.open_from is None
    assert read_pending(day_one)["invoice_lines"].months >= result.footprint.months
    assert pending_before  # day one's own drops were pending too (nothing published yet)


def test_footprints_follow_each_sources_rule(day_one, write_raw):
    write_raw(  # an unpaid invoice: financing accrues through the latest month
        "invoice_lines",
        "2024-02-01.csv",
        INVOICE_HEADER + line("R9", 1, "01.02.2024", "C1", "5,00"),
    )
    write_raw(  # a changed customer: every month with its facts
        "customers",
        "customers_2024-02-01.csv",
        CUSTOMERS_HEADER + "C5;Neu AG;;;CH;CHF;01.01.2024;30;;\n",
    )
    write_raw(  # a late credit note, settled in May: not financed, so its own month only
        "invoice_lines",
        "2024-02-02_corrections.csv",
        INVOICE_HEADER + line("G1", 1, "15.11.2023", "C1", "20,00", "02.05.2024", "credit_note"),
    )
    results = ingest_all(day_one)
    assert results["invoice_lines"].footprint.open_from == date(2024, 2, 1)
    assert results["invoice_lines"].footprint.months == {date(2023, 11, 1)}
    assert results["customers"].footprint.customers == {"C5"}
    assert results["exchange_rates"].footprint.full is False


def test_dates_are_judged_against_the_day_their_file_arrived(settings, write_raw):
    """A row's fate depends on its file, never on the clock of a later run."""
    write_raw("exchange_rates", "rates.csv", RATES)
    write_raw("customers", "c.csv", CUSTOMERS_HEADER + "C1;Müller GmbH;;;CH;CHF;01.01.2020;30;;\n")
    write_raw(
        "invoice_lines",
        "2024-03-15.csv",
        INVOICE_HEADER
        + line("R1", 1, "15.03.2024", "C1", "100,00")
        + line("R2", 1, "15.03.2025", "C1", "50,00")  # within a year of arrival: plausible
        + line("R3", 1, "15.04.2025", "C1", "70,00"),  # beyond: quarantined
    )
    contracts = load_contracts()

    def run(today: date, reparse_all: bool = False) -> set[str]:
        for name in SOURCES:
            ingest_source(contracts[name], settings, reparse_all=reparse_all, today=today)
        with duckdb.connect() as con:
            rows = con.execute(
                f"SELECT invoice_number FROM '{settings.accepted_glob('invoice_lines')}'"
            ).fetchall()
        return {r for (r,) in rows}

    assert run(date(2024, 3, 15)) == {"R1", "R2"}
    # two years later the same file is parsed again (e.g. new ingest code): still its arrival day
    assert run(date(2026, 5, 1), reparse_all=True) == {"R1", "R2"}
    reasons = [
        r
        for _, r in duckdb.execute(
            "SELECT source_row, reason FROM read_parquet(?)",
            [settings.quarantine_glob("invoice_lines")],
        ).fetchall()
    ]
    late = (
        ': "15.04.2025" (after 16.03.2025, the latest plausible date: the file arrived '
        "15.03.2024, + ingest.dates.days_ahead 366 days in config/warehouse.yml)"
    )
    outside = "date outside the plausible window in"
    assert reasons == [f"{outside} invoice_date{late}; {outside} due_date{late}"]
    # a new delivery under the same name arrives on its own day
    write_raw(
        "invoice_lines",
        "2024-03-15.csv",
        INVOICE_HEADER + line("R3", 1, "15.04.2025", "C1", "70,00"),
    )
    assert run(date(2025, 4, 20)) == {"R3"}
