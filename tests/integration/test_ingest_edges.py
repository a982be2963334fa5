"""The ingest edge cases end to end, in one refresh: a US-locale export, out-of-range numbers,
sloppy dates and codes, a file mixing encodings. Bad rows are quarantined, the refresh publishes,
and the published numbers hold exactly the rows that cannot be misread."""

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.cli.runner import run_refresh
from orchestration.demo_data import generate
from orchestration.publish.folders import current_publication, parquet_files
from tests.conftest import CUSTOMERS_HEADER, INVOICE_HEADER

# Issue 25.1: exported with "." as the decimal mark. Rows 2 and 5 read the same in any locale.
US_EXPORT = INVOICE_HEADER + (
    "US1;1;15.05.2023;CUS1;P1;2;100.00;CHF;invoice;8;14.06.2023;\n"
    "US1;2;15.05.2023;CUS1;P1;938;12;CHF;invoice;8;14.06.2023;\n"
    "US1;3;15.05.2023;CUS1;P1;1.250;938;CHF;invoice;8;14.06.2023;\n"
    "US1;4;15.05.2023;CUS1;P1;1;378.15;CHF;invoice;8;14.06.2023;\n"
    "US1;5;15.05.2023;CUS1;P1;3;25;CHF;invoice;8;14.06.2023;\n"
)
UNAMBIGUOUS_REVENUE = 938 * Decimal(12) + 3 * Decimal(25)
EDGES = INVOICE_HEADER + (
    "ED1;1;5.5.2023;CUS2;P1;1;10,00;CHF;invoice;8;14.06.2023;\n"  # not dd.mm.yyyy
    "ED1;2;15.05.2023;CUS2;P1;1;10,00;chf;invoice;8;14.06.2023;\n"  # read as CHF
    "ED1;3;15.05.2023;CUS2;P1;1.000.000.000.000,000;1.000.000,0000;CHF;invoice;8;14.06.2023;\n"
    "ED1;4;15.05.0023;CUS2;P1;1;10,00;CHF;invoice;8;14.06.2023;\n"  # year 23
)


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("edges")
    raw = data_dir / "raw"
    generate(raw, invoice_lines=1500, seed=11, fmt="csv", months=6)
    (raw / "invoice_lines" / "zz_us_export.csv").write_text(US_EXPORT, encoding="utf-8")
    (raw / "invoice_lines" / "zz_edges.csv").write_text(EDGES, encoding="utf-8")
    (raw / "customers" / "zz_edge_customers.csv").write_bytes(
        CUSTOMERS_HEADER.encode()
        + b"CUS1;US Export AG;;;CH;CHF;01.01.2020;30;;\n"
        + "CUS2;Zürich Edge AG;;;CH;CHF;01.01.2020;30;;\n".encode()
        + "CUS3;Gespräch GmbH;;;DE;CHF;01.01.2020;30;;\n".encode("cp1252")
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(data_dir))
        outcome = run_refresh()
    assert outcome.success, outcome.error
    return current_publication(data_dir / "published")


def published(publication: Path, sql: str, table: str) -> list[tuple]:
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{parquet_files(publication, table)}'")
        return con.execute(sql).fetchall()


def quarantined(publication: Path, source: str) -> dict[tuple[str, int], str]:
    rows = published(
        publication,
        f"SELECT source_file, source_row, reason FROM quarantine WHERE source = '{source}'",
        "quarantine",
    )
    return {(f.rsplit("/", 1)[-1], r): why for f, r, why in rows}


def test_a_us_locale_export_publishes_only_its_unambiguous_rows(refreshed):
    [(revenue,)] = published(
        refreshed,
        "SELECT sum(gross_revenue) FROM key_account_value WHERE account_id = 'CUS1'",
        "key_account_value",
    )
    assert revenue == UNAMBIGUOUS_REVENUE  # 11'331.00, not 1'183'831.00
    reasons = quarantined(refreshed, "invoice_lines")
    us = {row: why for (name, row), why in reasons.items() if name == "zz_us_export.csv"}
    assert sorted(us) == [1, 3, 4]
    assert us[3].startswith('number ambiguous in this file in quantity: "1.250"')


def test_edge_rows_are_quarantined_and_the_refresh_publishes(refreshed):
    reasons = quarantined(refreshed, "invoice_lines")
    edges = {row: why for (name, row), why in reasons.items() if name == "zz_edges.csv"}
    assert sorted(edges) == [1, 3, 4]
    assert edges[1].startswith('unparseable date (dd.mm.yyyy) in invoice_date: "5.5.2023"')
    assert edges[3].startswith("amount out of range in quantity x unit_price")  # not a dbt error
    assert edges[4].startswith('date outside the plausible window in invoice_date: "15.05.0023"')
    [(revenue,)] = published(
        refreshed,
        "SELECT sum(gross_revenue) FROM key_account_value WHERE account_id = 'CUS2'",
        "key_account_value",
    )
    assert revenue == Decimal("10.00")  # the lowercase chf row


def test_a_file_mixing_encodings_keeps_its_utf8_rows_unharmed(refreshed):
    reasons = quarantined(refreshed, "customers")
    assert list(reasons) == [("zz_edge_customers.csv", 3)]
    assert reasons["zz_edge_customers.csv", 3].startswith("mixed encodings in customer_name")
    names = published(
        refreshed,
        "SELECT account_id, account_name FROM accounts WHERE account_id LIKE 'CUS%' ORDER BY 1",
        "accounts",
    )
    assert names == [("CUS1", "US Export AG"), ("CUS2", "Zürich Edge AG")]  # not "ZÃ¼rich"
