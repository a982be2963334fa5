"""Encodings: a file mixing UTF-8 and Windows-1252 rows is not transcoded into mojibake."""

import duckdb
import pytest

from orchestration.ingest.encodings import utf8_evidence
from orchestration.ingest.load import ingest_source
from orchestration.ingest.readers import IngestError
from orchestration.sources.contracts import load_contracts
from tests.conftest import CUSTOMERS_HEADER, RATES


def ingest_customers(settings):
    contracts = load_contracts()
    for name in ("exchange_rates", "customers"):
        result = ingest_source(contracts[name], settings)
    return result


def test_a_file_mixing_utf8_and_windows_1252_rows_keeps_the_utf8_ones(
    settings, write_raw, data_root
):
    write_raw("exchange_rates", "rates.csv", RATES)
    folder = data_root / "raw" / "customers"
    folder.mkdir()
    (folder / "c.csv").write_bytes(
        CUSTOMERS_HEADER.encode()
        + "C1;Gespräch AG;;;CH;CHF;01.01.2020;30;;\n".encode()
        + "C2;Gespräch GmbH;;;DE;EUR;01.01.2020;30;;\n".encode("cp1252")
        + b"C3;Plain SA;;;FR;EUR;01.01.2020;30;;\n"
    )
    result = ingest_customers(settings)
    assert (result.raw_rows, result.accepted_rows, result.quarantined_rows) == (3, 2, 1)
    assert result.notes == [
        "customers/c.csv mixes encodings (line 2 is UTF-8, other lines are not): its rows that "
        "are not UTF-8 are quarantined"
    ]
    names = duckdb.execute(
        "SELECT _source_row, customer_name FROM read_parquet(?) ORDER BY 1",
        [settings.accepted_glob("customers")],
    ).fetchall()
    assert names == [(1, "Gespräch AG"), (3, "Plain SA")]  # no "GesprÃ¤ch"
    row, reason, record = duckdb.execute(
        "SELECT source_row, reason, raw_record FROM read_parquet(?)",
        [settings.quarantine_glob("customers")],
    ).fetchone()
    assert row == 2
    assert reason == (
        "mixed encodings in customer_name: this row is not UTF-8 (Windows-1252?), while line 2 "
        "of the file is UTF-8 ('Gespräch AG'): the file is not transcoded, re-export it in one "
        "encoding"
    )
    assert "Gespräch GmbH" in record  # the row as Windows-1252 would read it


def test_a_windows_1252_file_is_transcoded(settings, write_raw):
    write_raw("exchange_rates", "rates.csv", RATES)
    write_raw(
        "customers",
        "c.csv",
        CUSTOMERS_HEADER + "C1;Gießerei „Fuß“ AG;;;CH;CHF;01.01.2020;30;;\n",
        encoding="cp1252",
    )
    result = ingest_customers(settings)
    assert (result.accepted_rows, result.notes) == (1, [])
    name = duckdb.execute(
        "SELECT customer_name FROM read_parquet(?)", [settings.accepted_glob("customers")]
    ).fetchone()[0]
    assert name == "Gießerei „Fuß“ AG"


def test_byte_pairs_that_only_look_like_utf8_are_no_evidence(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("a;b\n1;Fuß“\n".encode("cp1252"))  # ß“ = DF 93, valid UTF-8 for U+07D3
    assert utf8_evidence(path) is None


def test_a_byte_neither_encoding_defines_names_the_line(settings, write_raw, data_root):
    write_raw("exchange_rates", "rates.csv", RATES)
    folder = data_root / "raw" / "customers"
    folder.mkdir()
    (folder / "c.csv").write_bytes(
        CUSTOMERS_HEADER.encode() + b"C1;ok;;;CH;CHF;01.01.2020;30;;\nC2;x\x81;;;CH;CHF;;;;\n"
    )
    with pytest.raises(IngestError, match="line 3 of the file holds byte 0x81"):
        ingest_customers(settings)
