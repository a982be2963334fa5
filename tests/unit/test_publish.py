"""Publishing: `current` flips atomically, old publications are pruned, failures change nothing."""

import os

import duckdb
import pytest

from orchestration.publish import (
    CURRENT,
    current_publication,
    prune,
    publications,
    publish,
    switch_current,
)


def make_publication(root, name):
    (root / name).mkdir(parents=True)
    return root / name


def test_switch_current_replaces_the_link_in_one_step(tmp_path):
    a = make_publication(tmp_path, "20260101T000000Z_a")
    b = make_publication(tmp_path, "20260102T000000Z_b")
    switch_current(tmp_path, a.name)
    assert current_publication(tmp_path) == a
    switch_current(tmp_path, b.name)
    assert current_publication(tmp_path) == b
    assert os.readlink(tmp_path / CURRENT) == b.name  # relative: the folder can move
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_prune_keeps_the_newest_and_never_the_current(tmp_path):
    names = [make_publication(tmp_path, f"2026010{i}T000000Z_x").name for i in range(1, 7)]
    switch_current(tmp_path, names[0])  # e.g. after a rollback to the oldest
    prune(tmp_path, keep=3)
    assert [p.name for p in publications(tmp_path)] == [names[0], *names[3:]]


@pytest.fixture
def warehouse_with_mart(settings):
    con = duckdb.connect(str(settings.warehouse_db))
    con.execute("CREATE TABLE key_account_value AS SELECT 'G1' AS account_id, 1.5 AS v")
    con.close()
    for folder in (
        settings.quarantine_dir_of("invoice_lines"),
        settings.accepted_dir("invoice_lines"),
    ):
        folder.mkdir(parents=True, exist_ok=True)
        duckdb.execute(
            f"COPY (SELECT 'invoice_lines' AS source, 'f.csv' AS source_file, 1 AS source_row, "
            f"'why' AS reason, '{{}}' AS raw_record) TO '{folder / 'f.csv-1234abcd.parquet'}'"
        ).fetchall()
    return settings


def test_publish_writes_parquet_and_a_serving_duckdb(warehouse_with_mart):
    settings = warehouse_with_mart
    pub = publish(settings, ["key_account_value"], run_id="abcdef123456")
    assert current_publication(settings.published_dir) == pub.path
    assert pub.row_counts == {"key_account_value": 1, "quarantine": 1, "ingest_summary": 1}
    parquet = duckdb.sql(f"SELECT * FROM '{pub.path / 'key_account_value.parquet'}'").fetchall()
    con = duckdb.connect(str(pub.path / "kam.duckdb"), read_only=True)
    assert con.sql("SELECT * FROM key_account_value").fetchall() == parquet
    assert (pub.path / "manifest.json").exists()


def test_failed_publish_leaves_current_and_no_partial_folder(warehouse_with_mart):
    settings = warehouse_with_mart
    first = publish(settings, ["key_account_value"], run_id="run1").path
    with pytest.raises(duckdb.Error):
        publish(settings, ["key_account_value", "no_such_mart"], run_id="run2")
    assert current_publication(settings.published_dir) == first
    assert sorted(p.name for p in settings.published_dir.iterdir()) == sorted([first.name, CURRENT])
