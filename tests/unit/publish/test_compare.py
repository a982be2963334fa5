"""Comparing two publications row by row (scripts/compare_publications.py and the rerun test)."""

import duckdb

from orchestration.publish.compare import compare


def write(folder, rows: list[tuple[str, int, str]]) -> None:
    """A small table and a month-partitioned one, in the publication layout."""
    (folder / "cost_lines").mkdir(parents=True)
    values = ", ".join(f"('{a}', {n}, '{t}')" for a, n, t in rows)
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t AS SELECT * FROM (VALUES {values}) v(account_id, n, decided)")
        con.execute(f"COPY t TO '{folder / 'accounts.parquet'}'")
        con.execute(
            f"COPY (SELECT * FROM t WHERE n = 1) TO '{folder / 'cost_lines' / 'a.parquet'}'"
        )
        con.execute(
            f"COPY (SELECT * FROM t WHERE n > 1) TO '{folder / 'cost_lines' / 'b.parquet'}'"
        )


def test_same_rows_in_another_order_are_the_same_and_a_moved_value_is_not(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write(a, [("C1", 1, "02:00"), ("C2", 2, "02:00"), ("C2", 2, "02:00")])
    write(b, [("C2", 2, "02:00"), ("C1", 1, "02:00"), ("C2", 2, "02:00")])
    write(c, [("C1", 1, "03:00"), ("C2", 2, "02:00"), ("C2", 2, "02:00")])
    lines: list[str] = []

    assert compare(a, b, report=lines.append) == []
    assert [line.split()[0] for line in lines] == ["accounts", "cost_lines"]
    assert compare(a, c) == [
        "accounts: DIFFERENT (1 rows only in A, 1 only in B)",
        "cost_lines: DIFFERENT (1 rows only in A, 1 only in B)",
    ]
    assert compare(a, c, ignore={"accounts": {"decided"}, "cost_lines": {"decided"}}) == []


def test_a_missing_table_is_a_difference(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, [("C1", 1, "x")])
    write(b, [("C1", 1, "x")])
    (b / "accounts.parquet").unlink()
    assert compare(a, b) == [f"accounts: only in {a}"]
