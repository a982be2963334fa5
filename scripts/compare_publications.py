"""Compare two publications table by table, row by row.

    python scripts/compare_publications.py A B [--ignore TABLE.COLUMN ...]

Every published Parquet table (single files and month folders) is read whole and compared as a
multiset of rows (EXCEPT ALL both ways), with the same columns in the same order and types.
Exit code 1 and the differing tables when they differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def tables(folder: Path) -> dict[str, str]:
    found = {p.stem: str(p) for p in folder.glob("*.parquet")}
    found |= {
        d.name: str(d / "*.parquet")
        for d in folder.iterdir()
        if d.is_dir() and any(d.glob("*.parquet"))
    }
    return found


def compare(a: Path, b: Path, ignore: dict[str, set[str]] | None = None) -> list[str]:
    ta, tb = tables(a), tables(b)
    problems = [f"{t}: only in {a}" for t in sorted(ta.keys() - tb.keys())]
    problems += [f"{t}: only in {b}" for t in sorted(tb.keys() - ta.keys())]
    con = duckdb.connect()
    for name in sorted(ta.keys() & tb.keys()):
        skip = (ignore or {}).get(name)
        cols = f"* EXCLUDE ({', '.join(sorted(skip))})" if skip else "*"
        ra, rb = (f"(SELECT {cols} FROM read_parquet('{p}'))" for p in (ta[name], tb[name]))
        schema_a = con.execute(f"DESCRIBE SELECT * FROM {ra}").fetchall()
        schema_b = con.execute(f"DESCRIBE SELECT * FROM {rb}").fetchall()
        if [r[:2] for r in schema_a] != [r[:2] for r in schema_b]:
            problems.append(f"{name}: columns differ")
            continue
        only_a = con.execute(f"SELECT count(*) FROM (FROM {ra} EXCEPT ALL FROM {rb})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM (FROM {rb} EXCEPT ALL FROM {ra})").fetchone()[0]
        rows = con.execute(f"SELECT count(*) FROM {ra}").fetchone()[0]
        status = (
            "same"
            if only_a == only_b == 0
            else f"DIFFERENT ({only_a} rows only in A, {only_b} only in B)"
        )
        note = f" (ignoring {', '.join(sorted(skip))})" if skip else ""
        print(f"{name:32} {rows:>9,} rows  {status}{note}")
        if status != "same":
            problems.append(f"{name}: {status}")
    return problems


if __name__ == "__main__":
    args = sys.argv[1:]
    ignore: dict[str, set[str]] = {}
    while "--ignore" in args:
        i = args.index("--ignore")
        table, column = args[i + 1].split(".", 1)
        ignore.setdefault(table, set()).add(column)
        del args[i : i + 2]
    problems = compare(Path(args[0]).resolve(), Path(args[1]).resolve(), ignore)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
