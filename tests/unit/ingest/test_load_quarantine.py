"""Ingest: every raw row is accepted or quarantined with file, row and reason; nothing is lost."""

import duckdb
import pytest

from orchestration.ingest.load import ingest_source
from orchestration.ingest.readers import IngestError
from orchestration.sources.contracts import load_contracts
from tests.conftest import INVOICE_HEADER


def ingest(settings, *names):
    contracts = load_contracts()
    return {n: ingest_source(contracts[n], settings) for n in names}


def quarantine(settings, source):
    return duckdb.execute(
        "SELECT source_file, source_row, reason FROM read_parquet(?) ORDER BY source_row",
        [settings.quarantine_glob(source)],
    ).fetchall()


def accepted(settings, source, columns="*"):
    return duckdb.execute(
        f"SELECT {columns} FROM read_parquet(?) ORDER BY _source_file, _source_row",
        [settings.accepted_glob(source)],
    ).fetchall()


def test_windows_1252_customers_are_transcoded(settings, base_sources):
    result = ingest(settings, "exchange_rates", "customers")["customers"]
    assert (result.raw_rows, result.accepted_rows, result.quarantined_rows) == (2, 2, 0)
    names = {r[0] for r in accepted(settings, "customers", "customer_name")}
    assert names == {"Müller & Söhne GmbH", "Société Générale de Pièces"}


def test_bad_rows_are_quarantined_with_file_row_and_reason(settings, base_sources, write_raw):
    write_raw(
        "invoice_lines",
        "2024-01.csv",
        INVOICE_HEADER
        + "R1;1;05.01.2024;C1;P1;1.000;1.234,50;CHF;invoice;800,00;04.02.2024;\n"  # ok
        + "R1;2;05.01.2024;C9;P1;2;10,00;CHF;invoice;8;04.02.2024;\n"  # unknown customer
        + "R1;3;32.01.2024;C1;P1;2;10,00;CHF;invoice;8;04.02.2024;\n"  # bad date
        + "R1;4;05.01.2024;C1;P1;2;abc;CHF;invoice;8;04.02.2024;\n"  # bad number
        + "R2;1;05.01.2024;C2;P1;2;10,00;GBP;invoice;8;04.02.2024;\n"  # unknown currency
        + "R2;2;05.01.2023;C2;P1;2;10,00;EUR;invoice;8;04.02.2024;\n"  # no rate yet
        + ";3;05.01.2024;C2;P1;2;10,00;EUR;gift;8;04.02.2024;\n"  # missing key, bad type
        + "R2;4;05.01.2024;C2;P1;2;10,00;EUR;invoice;8\n"  # too few fields
        + "R2;5;05.01.2024;C2;P1;-2;10,00;EUR;invoice;8;04.02.2024;\n",  # negative quantity
        encoding="utf-8-sig",
    )
    result = ingest(settings, "exchange_rates", "customers", "invoice_lines")["invoice_lines"]
    assert (result.raw_rows, result.accepted_rows, result.quarantined_rows) == (9, 1, 8)
    rows = quarantine(settings, "invoice_lines")
    assert all(f == "invoice_lines/2024-01.csv" for f, _, _ in rows)  # relative to data/raw
    reasons = {row: reason for _, row, reason in rows}
    assert reasons[2] == "unknown customer_id 'C9' (not an accepted row of customers)"
    assert reasons[3] == 'unparseable date (dd.mm.yyyy) in invoice_date: "32.01.2024"'
    assert reasons[4].startswith(
        'unparseable number (German format, at most 4 decimals) in unit_price: "abc"'
    )
    assert reasons[5] == "no exchange rate GBP -> CHF on or before 05.01.2024"
    assert reasons[6] == "no exchange rate EUR -> CHF on or before 05.01.2023"
    assert "missing invoice_number" in reasons[7] and "unknown value in document_type" in reasons[7]
    assert reasons[8].startswith("malformed CSV row: Expected Number of Columns: 12 Found: 10")
    assert reasons[9] == "quantity must be >= 0, got -2.000"


def test_rows_after_a_malformed_row_keep_their_file_row_number(settings, base_sources, write_raw):
    write_raw(
        "invoice_lines",
        "a.csv",
        INVOICE_HEADER
        + "R1;1;05.01.2024;C1;P1;1;1,00;CHF;invoice;1;04.02.2024;\n"
        + "broken;line\n"
        + "also;broken;;;;;;;;;;;;;;\n"
        + "R1;2;05.01.2024;C9;P1;1;1,00;CHF;invoice;1;04.02.2024;\n",
    )
    ingest(settings, "exchange_rates", "customers", "invoice_lines")
    rows = {row: reason for _, row, reason in quarantine(settings, "invoice_lines")}
    assert sorted(rows) == [2, 3, 4]
    assert rows[4].startswith("unknown customer_id 'C9'")
    assert accepted(settings, "invoice_lines", "_source_row") == [(1,)]


def test_exact_re_export_is_counted_not_double_booked(settings, base_sources, write_raw):
    lines = (
        "R1;1;05.01.2024;C1;P1;1;100,00;CHF;invoice;50;04.02.2024;\n"
        "R1;2;05.01.2024;C1;P2;1;200,00;CHF;invoice;50;04.02.2024;\n"
    )
    write_raw("invoice_lines", "2024-01-05.csv", INVOICE_HEADER + lines)
    write_raw("invoice_lines", "2024-01-05_resent.csv", INVOICE_HEADER + lines)
    write_raw(
        "invoice_lines",
        "2024-01-06.csv",
        INVOICE_HEADER + "R1;2;05.01.2024;C1;P2;1;250,00;CHF;invoice;50;04.02.2024;\n",
    )
    result = ingest(settings, "exchange_rates", "customers", "invoice_lines")["invoice_lines"]
    assert (result.raw_rows, result.accepted_rows, result.quarantined_rows) == (5, 2, 3)
    assert result.duplicate_rows == 2
    total = duckdb.execute(
        "SELECT sum(quantity * unit_price) FROM read_parquet(?)",
        [settings.accepted_glob("invoice_lines")],
    ).fetchone()[0]
    assert total == 300
    reasons = [r for _, _, r in quarantine(settings, "invoice_lines")]
    assert sum(r.startswith("duplicate re-export of") for r in reasons) == 2
    assert any(r.startswith("conflicting duplicate key first delivered in") for r in reasons)


def test_parquet_input_is_typed_natively(settings, base_sources, data_root):
    folder = data_root / "raw" / "invoice_lines"
    folder.mkdir(parents=True)
    duckdb.execute(
        f"""COPY (SELECT 'R1' AS invoice_number, 1 AS line_number, DATE '2024-01-05' AS invoice_date,
            'C1' AS customer_id, 'P1' AS product_id, 1234.5::DECIMAL(18,3) AS quantity,
            2.5::DOUBLE AS unit_price, 'CHF' AS currency, 'invoice' AS document_type,
            1.0 AS standard_cost_per_unit, DATE '2024-02-04' AS due_date,
            NULL::DATE AS payment_date) TO '{folder / "x.parquet"}' (FORMAT parquet)"""
    ).fetchall()
    result = ingest(settings, "exchange_rates", "customers", "invoice_lines")["invoice_lines"]
    assert (result.accepted_rows, result.quarantined_rows) == (1, 0)
    assert accepted(settings, "invoice_lines", "quantity * unit_price")[0][0] == 3086.25


def test_missing_required_column_names_the_file(settings, base_sources, write_raw):
    path = write_raw("invoice_lines", "bad.csv", "invoice_number;line_number\nR1;1\n")
    with pytest.raises(IngestError, match=f"{path}: missing column\\(s\\) invoice_date"):
        ingest(settings, "exchange_rates", "customers", "invoice_lines")


def test_failed_ingest_keeps_previous_output(settings, base_sources, write_raw):
    write_raw(
        "invoice_lines",
        "a.csv",
        INVOICE_HEADER + "R1;1;05.01.2024;C1;P1;1;1,00;CHF;invoice;1;04.02.2024;\n",
    )
    ingest(settings, "exchange_rates", "customers", "invoice_lines")
    write_raw("invoice_lines", "b.csv", "nonsense\n1\n")
    with pytest.raises(IngestError):
        ingest(settings, "invoice_lines")
    assert len(accepted(settings, "invoice_lines")) == 1


def test_undecodable_file_gets_a_clear_error(settings, base_sources, data_root):
    folder = data_root / "raw" / "invoice_lines"
    folder.mkdir(parents=True)
    (folder / "bin.csv").write_bytes(
        INVOICE_HEADER.encode() + b"R1;1;x;C1;P\x81\x8d;1;1;CHF;invoice;1;x;\n"
    )
    with pytest.raises(IngestError, match="neither UTF-8 nor Windows-1252"):
        ingest(settings, "exchange_rates", "customers", "invoice_lines")


def test_account_assessments_reference_a_group_or_a_customer(settings, base_sources, write_raw):
    header = (
        "account_id;assessment_date;assessor;product_fit;buying_process;partner_potential;"
        "existing_relationships;cultural_fit;geographic_proximity;partnership_stage;"
        "purchasing_potential;currency;comment\n"
    )
    write_raw(
        "account_assessments",
        "assessments.csv",
        header
        + "G1;01.11.2024;Keller;7;;8;;9;10;4;1.500.000,00;CHF;group id\n"  # ok, empty = missing
        + "C2;01.11.2024;Favre;5;5;5;5;5;5;1;;EUR;standalone customer id\n"  # ok
        + "C1;02.11.2024;Keller;;;;;;;;;CHF;a site of G1\n"  # ok: counts for its group
        + "G7;01.11.2024;Keller;7;;;;;;;;CHF;unknown\n"  # unknown account
        + "C2;03.11.2024;Favre;11;0;;;;;6;;EUR;out of range\n"  # judgments 1-10, stage 1-5
        + "C2;01.11.2023;Favre;5;;;;;;;;EUR;no rate yet\n",  # EUR rate from 2024 only
    )
    result = ingest(settings, "exchange_rates", "customers", "account_assessments")
    assert result["account_assessments"].accepted_rows == 3
    reasons = {row: reason for _, row, reason in quarantine(settings, "account_assessments")}
    assert reasons[4] == "unknown account_id 'G7' (not an accepted row of customers)"
    assert reasons[5] == (
        "product_fit must be <= 10, got 11; buying_process must be >= 1, got 0; "
        "partnership_stage must be <= 5, got 6"
    )
    assert reasons[6] == "no exchange rate EUR -> CHF on or before 01.11.2023"
    assert accepted(settings, "account_assessments", "account_id, buying_process") == [
        ("G1", None),
        ("C2", 5),
        ("C1", None),
    ]
