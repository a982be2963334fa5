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


def test_an_unclosed_quote_stops_with_the_line_that_opens_it(tmp_path):
    path = tmp_path / "invoice_lines_2024-03.csv"
    path.write_text('a;b\n1;"x"\n2;"y\n3;z\n')
    con, consume = consume_into([])
    with pytest.raises(IngestError) as e:
        read_raw(con, path, consume, lambda: None)
    assert str(e.value) == (
        f"{path}: cannot be read as a ';'-separated CSV: line 3 opens a quote (\") that no later "
        "field closes: '2;\"y'. Remove or close the quote and export the file again."
    )


def test_a_quoted_field_with_a_line_break_is_read(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text('a;b\n1;"two\nlines"\n2;z\n')
    rows: list = []
    con, consume = consume_into(rows)
    read_raw(con, path, consume, lambda: None)
    assert [r[:2] for r in rows] == [("1", "two\nlines"), ("2", "z")]


def test_a_short_row_is_rejected_with_its_true_field_count(tmp_path):
    path = tmp_path / "invoice_lines.csv"
    path.write_text("a;b;c;d;e;f;g;h;i;j;k;l\n" + ";".join("x" * 12) + "\n1;2;3;4;5;6\n")
    con, consume = consume_into([])
    read = read_raw(con, path, consume, lambda: None)
    assert [(row, why) for row, why, _ in read.rejects] == [
        (2, "malformed CSV row: Expected Number of Columns: 12 Found: 6")
    ]
