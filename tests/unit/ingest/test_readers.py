"""Reading raw files: empty files stop the refresh with a clear message; a header-only file
delivers no rows."""

import duckdb
import pytest

from orchestration.ingest.readers import IngestError, read_raw


def consume_into(rows: list):
    con = duckdb.connect()

    def consume(raw):
        rows.extend(con.execute(f"SELECT * FROM ({raw.relation})").fetchall())

    return con, consume


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\n"])
def test_an_empty_file_stops_with_the_file_named(tmp_path, content):
    path = tmp_path / "invoice_lines_2024-03.csv"
    path.write_bytes(content)
    rows: list = []
    con, consume = consume_into(rows)
    with pytest.raises(IngestError, match=f"{path}: empty file \\({len(content)} bytes, no header"):
        read_raw(con, path, consume, lambda: None)


def test_an_empty_parquet_file_stops_too(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"")
    rows: list = []
    con, consume = consume_into(rows)
    with pytest.raises(IngestError, match="empty file \\(0 bytes"):
        read_raw(con, path, consume, lambda: None)


def test_a_header_only_file_delivers_no_rows(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"a;b\n")
    rows: list = []
    con, consume = consume_into(rows)
    read = read_raw(con, path, consume, lambda: None)
    assert rows == [] and read.rejects == []
