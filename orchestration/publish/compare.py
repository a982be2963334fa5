"""Compare two publications table by table, row by row (scripts/compare_publications.py, and the
tests that rerun a refresh on the same input).

Every published Parquet table (single files and month folders) is read whole and compared as a
multiset of rows (EXCEPT ALL both ways), with the same columns in the same order and types.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from orchestration.duck import quote_ident, quote_literal


def tables(folder: Path) -> dict[str, str]:
    """Table name -> what read_parquet reads: `<table>.parquet` or `<table>/*.parquet`."""
    found = {p.stem: str(p) for p in folder.glob("*.parquet")}
    found |= {
        d.name: str(d / "*.parquet")
        for d in folder.iterdir()
        if d.is_dir() and any(d.glob("*.parquet"))
    }
    return found


def compare(
    a: Path,
    b: Path,
    ignore: dict[str, set[str]] | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> list[str]:
    """The differences between publications `a` and `b` ([] when every table is the same);
    `ignore` leaves columns out (table -> columns); `report` gets one line per table."""
    ta, tb = tables(a), tables(b)
    problems = [f"{t}: only in {a}" for t in sorted(ta.keys() - tb.keys())]
    problems += [f"{t}: only in {b}" for t in sorted(tb.keys() - ta.keys())]
    with duckdb.connect() as con:
        for name in sorted(ta.keys() & tb.keys()):
            skip = (ignore or {}).get(name)
            cols = f"* EXCLUDE ({', '.join(map(quote_ident, sorted(skip)))})" if skip else "*"
            ra, rb = (
                f"(SELECT {cols} FROM read_parquet({quote_literal(p)}))"
                for p in (ta[name], tb[name])
            )
            schema_a = con.execute(f"DESCRIBE SELECT * FROM {ra}").fetchall()
            schema_b = con.execute(f"DESCRIBE SELECT * FROM {rb}").fetchall()
            if [r[:2] for r in schema_a] != [r[:2] for r in schema_b]:
                problems.append(f"{name}: columns differ")
                continue
            only_a, only_b = (
                con.execute(f"SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})").fetchone()[0]
                for x, y in ((ra, rb), (rb, ra))
            )
            rows = con.execute(f"SELECT count(*) FROM {ra}").fetchone()[0]
            same = only_a == only_b == 0
            status = "same" if same else f"DIFFERENT ({only_a} rows only in A, {only_b} only in B)"
            note = f" (ignoring {', '.join(sorted(skip))})" if skip else ""
            report(f"{name:32} {rows:>9,} rows  {status}{note}")
            if not same:
                problems.append(f"{name}: {status}")
    return problems
