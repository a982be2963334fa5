"""Parsing a file as a whole: a file that writes numbers US-style is judged as one."""

from decimal import Decimal

import duckdb

from orchestration.ingest.load import ingest_source
from orchestration.sources.contracts import load_contracts
from tests.conftest import INVOICE_HEADER

# The case of issue 25.1: an export with "." as the decimal mark.
US_EXPORT = INVOICE_HEADER + (
    "U1;1;05.01.2024;C1;P1;2;100.00;CHF;invoice;8;04.02.2024;\n"  # US only: 100
    "U1;2;05.01.2024;C1;P1;938;12;CHF;invoice;8;04.02.2024;\n"  # the same in both
    "U1;3;05.01.2024;C1;P1;1.250;938;CHF;invoice;8;04.02.2024;\n"  # 1250 or 1.25?
    "U1;4;05.01.2024;C1;P1;1;378.15;CHF;invoice;8;04.02.2024;\n"  # US only
    "U1;5;05.01.2024;C1;P1;3;1.234,50;CHF;invoice;8;04.02.2024;\n"  # German only
)


def test_a_us_style_file_keeps_only_the_numbers_that_cannot_be_misread(
    settings, base_sources, write_raw
):
    write_raw("invoice_lines", "us_export.csv", US_EXPORT)
    contracts = load_contracts()
    for name in ("exchange_rates", "customers", "invoice_lines"):
        result = ingest_source(contracts[name], settings)
    assert (result.raw_rows, result.accepted_rows, result.quarantined_rows) == (5, 2, 3)
    assert result.notes == [
        'invoice_lines/us_export.csv writes numbers US-style (row 1 unit_price "100.00", row 4 '
        'unit_price "378.15"): its numbers that read differently in German and US format are '
        "quarantined"
    ]
    reasons = dict(
        duckdb.execute(
            "SELECT source_row, reason FROM read_parquet(?)",
            [settings.quarantine_glob("invoice_lines")],
        ).fetchall()
    )
    assert reasons[1].startswith('number in US format in unit_price: "100.00"')
    assert reasons[3] == (
        'number ambiguous in this file in quantity: "1.250" (it reads differently in German and '
        'US format, and the file writes numbers US-style: row 1 unit_price "100.00", row 4 '
        'unit_price "378.15")'
    )
    revenue = duckdb.execute(
        "SELECT sum(quantity * unit_price) FROM read_parquet(?)",
        [settings.accepted_glob("invoice_lines")],
    ).fetchone()[0]
    assert revenue == Decimal("938") * 12 + 3 * Decimal("1234.50")


def test_a_german_file_with_the_same_numbers_is_read_as_german(settings, base_sources, write_raw):
    write_raw(
        "invoice_lines",
        "de.csv",
        INVOICE_HEADER + "D1;1;05.01.2024;C1;P1;1.250;938;CHF;invoice;8;04.02.2024;\n",
    )
    contracts = load_contracts()
    for name in ("exchange_rates", "customers", "invoice_lines"):
        result = ingest_source(contracts[name], settings)
    assert (result.accepted_rows, result.notes) == (1, [])
