"""Publishing: month files, carry-over, the serving file, quality tables, a failed publication."""

import errno
import json
import os
from datetime import date

import duckdb
import pytest

from orchestration.publish.folders import (
    CURRENT,
    PublishError,
    current_publication,
    last_publication,
    publications,
    rollback,
)
from orchestration.publish.publication import publish
from orchestration.scope.run_scope import RunScope
from orchestration.state import LAST_PUBLICATION

MARTS = ["cost_lines", "key_account_value"]
PARTITIONED = {"cost_lines": "month"}
JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


def make_publication(root, name):
    (root / name).mkdir(parents=True)
    (root / name / "manifest.json").write_text("{}")
    return root / name


# --- a working database with a month-partitioned mart ------------------------------------------


def write_lines(settings, rows):
    """cost_lines (line id, account, month, amount) in exactly this row order, and a small mart."""
    con = duckdb.connect(str(settings.warehouse_db))
    values = ", ".join(f"('{i}', '{a}', DATE '{m}', {amt})" for i, a, m, amt in rows)
    con.execute(
        f"CREATE OR REPLACE TABLE cost_lines AS SELECT * FROM (VALUES {values}) "
        "t(cost_line_id, account_id, month, amount)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE key_account_value AS SELECT account_id, month, "
        "sum(amount) AS relationship_costs FROM cost_lines GROUP BY ALL ORDER BY ALL"
    )
    con.close()


def lines(jan=(), feb=(), mar=()):
    rows = []
    for month, amounts in ((JAN, jan), (FEB, feb), (MAR, mar)):
        for n, amount in enumerate(amounts):
            rows.append((f"{month:%m}-{n}", f"G{9 - n}", month, amount))  # accounts descending
    return rows


@pytest.fixture
def warehouse(settings):
    for folder in (settings.quarantine_dir, settings.ingested_dir):
        duckdb.execute(
            f"COPY (SELECT 'invoice_lines' AS source, 'f.csv' AS source_file, 1 AS source_row, "
            f"'why' AS reason, '{{}}' AS raw_record) TO '{folder / 'invoice_lines.parquet'}'"
        ).fetchall()
    write_lines(settings, lines(jan=[1, 2, 3], feb=[4, 5], mar=[6]))
    return settings


def run(settings, run_id, scope=None):
    return publish(settings, MARTS, run_id, PARTITIONED, scope)


def month_rows(pub, label):
    return duckdb.sql(f"SELECT * FROM '{pub.path / 'cost_lines' / label}.parquet'").fetchall()


def inode(path):
    return path.stat().st_ino


def manifest(pub):
    return json.loads((pub.path / "manifest.json").read_text())


def test_publish_writes_parquet_and_a_serving_duckdb(warehouse):
    pub = publish(warehouse, ["key_account_value"], run_id="abcdef123456")
    assert current_publication(warehouse.published_dir) == pub.path
    assert pub.row_counts == {"key_account_value": 6, "quarantine": 1, "ingest_summary": 1}
    parquet = duckdb.sql(f"SELECT * FROM '{pub.path / 'key_account_value.parquet'}'").fetchall()
    con = duckdb.connect(str(pub.path / "kam.duckdb"), read_only=True)
    assert con.sql("SELECT * FROM key_account_value").fetchall() == parquet
    assert (pub.path / "manifest.json").exists()


def test_partitioned_mart_is_one_file_per_month_in_the_marts_row_order(warehouse):
    pub = run(warehouse, "run1")
    assert sorted(p.name for p in (pub.path / "cost_lines").iterdir()) == [
        "2025-01.parquet",
        "2025-02.parquet",
        "2025-03.parquet",
    ]
    assert not (pub.path / "cost_lines.parquet").exists()
    assert [r[0] for r in month_rows(pub, "2025-01")] == ["01-0", "01-1", "01-2"]
    meta = duckdb.sql(
        f"SELECT DISTINCT compression FROM parquet_metadata('{pub.path}/cost_lines/*.parquet')"
    ).fetchall()
    assert meta == [("ZSTD",)]
    m = manifest(pub)
    assert m["scope"] == {"full": True, "months": []}
    assert m["tables"]["cost_lines"] == 6
    assert m["partitioned_marts"]["cost_lines"]["months"]["2025-02"] == {
        "file": "cost_lines/2025-02.parquet",
        "rows": 2,
        "carried_over": False,
    }
    assert m["carried_over"] == {"from": None, "months": {"cost_lines": []}}
    assert pub.row_counts["cost_lines"] == 6


def test_serving_view_reads_this_publications_files_by_absolute_path(warehouse):
    pub = run(warehouse, "run1")
    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse.published_dir / CURRENT / 'kam.duckdb'}' AS kam (READ_ONLY)")
    total = con.execute("SELECT count(*), sum(amount) FROM kam.cost_lines").fetchone()
    assert total == (6, 21)
    assert con.execute("SELECT publication, run_id, scope FROM kam.publication").fetchall() == [
        (pub.path.name, "run1", "full")
    ]
    (sql,) = con.execute(
        "SELECT sql FROM duckdb_views() WHERE database_name = 'kam' AND view_name = 'cost_lines'"
    ).fetchone()
    assert str(pub.path / "cost_lines" / "2025-01.parquet") in sql
    assert f"/{CURRENT}/" not in sql and ".partial" not in sql
    (tags,) = con.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = 'kam'"
    ).fetchone()
    assert tags["storage_version"] == "v1.0.0+"  # readable by DuckDB 1.0 and later


def test_a_reader_of_an_older_serving_file_keeps_reading_that_publication(warehouse):
    old = run(warehouse, "run1")
    write_lines(warehouse, lines(jan=[1, 2, 3], feb=[4, 5, 100], mar=[6]))
    run(warehouse, "run2")
    con = duckdb.connect(str(old.path / "kam.duckdb"), read_only=True)
    assert con.execute("SELECT count(*), sum(amount) FROM cost_lines").fetchone() == (6, 21)


def test_a_scoped_run_writes_its_months_and_links_the_others(warehouse):
    first = run(warehouse, "run1")
    write_lines(warehouse, lines(jan=[1, 2, 3], feb=[4, 50], mar=[6]))
    second = run(warehouse, "run2", RunScope.of_months([FEB]))
    assert [r[3] for r in month_rows(second, "2025-02")] == [4, 50]
    for label in ("2025-01", "2025-03"):
        assert inode(second.path / f"cost_lines/{label}.parquet") == inode(
            first.path / f"cost_lines/{label}.parquet"
        )
    assert inode(second.path / "cost_lines/2025-02.parquet") != inode(
        first.path / "cost_lines/2025-02.parquet"
    )
    assert [r[3] for r in month_rows(first, "2025-02")] == [4, 5]  # never modified in place
    m = manifest(second)
    assert m["scope"] == {"full": False, "months": ["2025-02-01"]}
    assert m["carried_over"] == {
        "from": first.path.name,
        "months": {"cost_lines": ["2025-01", "2025-03"]},
    }
    assert second.written_months == {"cost_lines": ["2025-02"]}
    assert (warehouse.state_dir / LAST_PUBLICATION).read_text().strip() == second.path.name


def test_carry_over_comes_from_the_last_publication_written_not_from_current(warehouse):
    first = run(warehouse, "run1")
    write_lines(warehouse, lines(jan=[1, 2, 3], feb=[4, 50], mar=[6]))
    second = run(warehouse, "run2", RunScope.of_months([FEB]))
    rollback(warehouse.published_dir)  # current -> first; the working database keeps Feb = 50
    assert current_publication(warehouse.published_dir) == first.path
    assert last_publication(warehouse) == second.path
    write_lines(warehouse, lines(jan=[1, 2, 3], feb=[4, 50], mar=[60]))
    third = run(warehouse, "run3", RunScope.of_months([MAR]))
    assert [r[3] for r in month_rows(third, "2025-02")] == [4, 50]
    assert inode(third.path / "cost_lines/2025-02.parquet") == inode(
        second.path / "cost_lines/2025-02.parquet"
    )
    assert manifest(third)["carried_over"]["from"] == second.path.name


def test_month_files_are_copied_when_the_file_system_cannot_link(warehouse, monkeypatch):
    first = run(warehouse, "run1")

    def cross_device(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    second = run(warehouse, "run2", RunScope.of_months([FEB]))
    assert second.carried_months == {"cost_lines": ["2025-01", "2025-03"]}
    old, new = (p / "cost_lines/2025-01.parquet" for p in (first.path, second.path))
    assert inode(new) != inode(old) and new.read_bytes() == old.read_bytes()


def test_without_the_last_publication_every_month_is_written(warehouse):
    first = run(warehouse, "run1")
    (warehouse.state_dir / LAST_PUBLICATION).unlink()
    second = run(warehouse, "run2", RunScope.of_months([FEB]))
    assert second.written_months == {"cost_lines": ["2025-01", "2025-02", "2025-03"]}
    assert manifest(second)["carried_over"]["from"] is None
    assert inode(second.path / "cost_lines/2025-01.parquet") != inode(
        first.path / "cost_lines/2025-01.parquet"
    )


def test_a_month_gone_from_the_working_database_is_not_carried_over(warehouse):
    run(warehouse, "run1")
    write_lines(warehouse, lines(jan=[1, 2, 3], feb=[4, 5]))
    second = run(warehouse, "run2", RunScope.of_months([MAR]))
    assert sorted(p.name for p in (second.path / "cost_lines").iterdir()) == [
        "2025-01.parquet",
        "2025-02.parquet",
    ]
    con = duckdb.connect(str(second.path / "kam.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM cost_lines").fetchone() == (5,)


def test_a_month_outside_the_scope_whose_row_count_moved_is_written_not_carried(warehouse):
    run(warehouse, "run1")
    write_lines(warehouse, lines(jan=[1, 2, 3, 4], feb=[4, 5], mar=[6]))
    second = run(warehouse, "run2", RunScope.of_months([FEB]))
    assert second.written_months == {"cost_lines": ["2025-01", "2025-02"]}
    assert len(month_rows(second, "2025-01")) == 4


def test_rows_without_a_month_stop_the_publication(warehouse):
    first = run(warehouse, "run1")
    con = duckdb.connect(str(warehouse.warehouse_db))
    con.execute("INSERT INTO cost_lines VALUES ('x', 'G1', NULL, 1)")
    con.close()
    with pytest.raises(PublishError, match="cost_lines: 1 row"):
        run(warehouse, "run2")
    assert current_publication(warehouse.published_dir) == first.path


def test_failed_publish_leaves_current_and_no_partial_folder(warehouse):
    first = run(warehouse, "run1").path
    with pytest.raises(duckdb.Error):
        publish(warehouse, [*MARTS, "no_such_mart"], "run2", PARTITIONED)
    assert current_publication(warehouse.published_dir) == first
    assert sorted(p.name for p in warehouse.published_dir.iterdir()) == sorted(
        [first.name, CURRENT]
    )
    assert last_publication(warehouse) == first


def test_pruning_keeps_linked_month_files_readable(warehouse):
    pubs = [run(warehouse, "run0")]
    for i in range(1, 7):
        pubs.append(run(warehouse, f"run{i}", RunScope.of_months([FEB])))
    kept = publications(warehouse.published_dir)
    assert len(kept) == warehouse.publications_to_keep
    assert not pubs[0].path.exists()
    con = duckdb.connect(str(kept[-1] / "kam.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM cost_lines").fetchone() == (6,)


# --- the quality tables: both ingest layouts, and none ---------------------------------------


def quarantine_row(source, file, row):
    return (
        f"SELECT '{source}' AS source, '{file}' AS source_file, {row}::BIGINT AS source_row, "
        "'why' AS reason, '{}' AS raw_record"
    )


def test_quality_tables_read_one_file_per_source_and_one_per_raw_file(settings):
    write_lines(settings, lines(jan=[1]))
    (settings.ingested_dir / "deductions").mkdir()
    (settings.quarantine_dir / "deductions").mkdir()
    for name, n in (("a", 3), ("b", 2)):
        duckdb.execute(
            f"COPY (SELECT range AS x FROM range({n})) "
            f"TO '{settings.ingested_dir / 'deductions' / name}.parquet'"
        )
        duckdb.execute(
            f"COPY ({quarantine_row('deductions', name + '.csv', 7)}) "
            f"TO '{settings.quarantine_dir / 'deductions' / name}.parquet'"
        )
    duckdb.execute(f"COPY (SELECT 1 AS x) TO '{settings.ingested_dir / 'customers.parquet'}'")
    duckdb.execute(f"COPY (SELECT 1 AS x) TO '{settings.ingested_dir / '.customers.parquet.tmp'}'")
    duckdb.execute(
        f"COPY ({quarantine_row('customers', 'c.csv', 1)}) "
        f"TO '{settings.quarantine_dir / 'customers.parquet'}'"
    )
    pub = publish(settings, ["key_account_value"], "run1")
    summary = duckdb.sql(f"SELECT * FROM '{pub.path / 'ingest_summary.parquet'}'").fetchall()
    assert summary == [("customers", 1, 1, 2), ("deductions", 5, 2, 7)]
    quarantine = duckdb.sql(
        f"SELECT source, source_file FROM '{pub.path / 'quarantine.parquet'}'"
    ).fetchall()
    assert quarantine == [("customers", "c.csv"), ("deductions", "a.csv"), ("deductions", "b.csv")]


def test_quality_tables_are_empty_without_any_ingested_file(settings):
    write_lines(settings, lines(jan=[1]))
    pub = publish(settings, ["key_account_value"], "run1")
    assert pub.row_counts["quarantine"] == 0 and pub.row_counts["ingest_summary"] == 0
    con = duckdb.connect(str(pub.path / "kam.duckdb"), read_only=True)
    assert [c[0] for c in con.execute("DESCRIBE quarantine").fetchall()] == [
        "source",
        "source_file",
        "source_row",
        "reason",
        "raw_record",
    ]
