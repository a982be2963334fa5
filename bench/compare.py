"""Check that the pipeline and the baselines computed the same marts, before any timing counts.

Two kinds of output are compared:

- a publication (`published=True`): the pipeline's publication folder, or a fair-floor baseline
  writing the same. It holds `key_account_value.parquet` and the month files
  `cost_to_serve/<YYYY-MM>.parquet` and `cost_lines/<YYYY-MM>.parquet`. Two publications must
  have the same layout (the same month files, each holding the rows of its month only), the same
  columns with the same types in every file, and the same rows in every column, month file by
  month file (so that memory stays bounded at any scale);
- two marts (the variants of the earlier runs): `key_account_value.parquet` and
  `cost_to_serve.parquet` with the mart columns only, money as DECIMAL(..., 2) (bare DuckDB) or
  integer cents (pandas). Against any other output they are compared on those columns, in
  integer cents, row by row on their keys.

The totals of the money columns are reported (in cents); any difference stops the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

KAV_MONEY = (
    "gross_revenue",
    "bonuses",
    "cash_discounts",
    "rebates",
    "promotions",
    "revenue_deductions",
    "net_revenue",
    "cogs",
    "gross_margin",
    "relationship_costs",
    "key_account_value",
)
# The columns of the two-mart comparison: (keys, money, counts).
MARTS = {
    "key_account_value": (("account_id", "month"), KAV_MONEY, ()),
    "cost_to_serve": (("account_id", "month", "cost_category"), ("amount",), ("cost_line_count",)),
}
# The published marts a fair floor writes too; the partitioned ones one file per month.
PUBLISHED = ("key_account_value", "cost_to_serve", "cost_lines")
MONTH_MARTS = ("cost_to_serve", "cost_lines")
# Totals reported for cost_lines: (money, counts).
COST_LINES_TOTALS = (("amount",), ())


class MismatchError(AssertionError):
    """The implementations disagree; the message shows where."""


@dataclass(frozen=True)
class MartOutput:
    name: str  # "pipeline", "duckdb_floor", "duckdb", "pandas_floor", "pandas"
    folder: Path
    money_in_cents: bool = False
    published: bool = False  # the three published marts in a publication's layout


def _sql_path(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def mart_files(out: MartOutput, mart: str) -> str:
    """`<mart>.parquet`, or the month files `<mart>/*.parquet` of a partitioned publication."""
    single, months = out.folder / f"{mart}.parquet", out.folder / mart
    if single.is_file():
        return str(single)
    if months.is_dir() and any(months.glob("*.parquet")):
        return str(months / "*.parquet")
    raise MismatchError(f"{out.name}: {single} (or {months}/*.parquet) is missing")


def _select(out: MartOutput, mart: str) -> str:
    """The two-mart comparison: keys, money in integer cents, counts."""
    keys, money, counts = MARTS[mart]
    factor = "" if out.money_in_cents else " * 100"
    cols = [
        "CAST(month AS DATE) AS month" if k == "month" else f"CAST({k} AS VARCHAR) AS {k}"
        for k in keys
    ]
    cols += [f"CAST({m}{factor} AS HUGEINT) AS {m}" for m in money]
    cols += [f"CAST({c} AS BIGINT) AS {c}" for c in counts]
    return f"SELECT {', '.join(cols)} FROM read_parquet({_sql_path(mart_files(out, mart))})"


def _totals_of(con: duckdb.DuckDBPyConnection, out: MartOutput) -> dict[str, dict[str, int]]:
    result = {}
    marts = {m: (MARTS[m][1], MARTS[m][2], _select(out, m)) for m in MARTS}
    if out.published:
        money, counts = COST_LINES_TOTALS
        cols = ", ".join(f"CAST({m} * 100 AS HUGEINT) AS {m}" for m in money)
        sel = f"SELECT {cols} FROM read_parquet({_sql_path(mart_files(out, 'cost_lines'))})"
        marts["cost_lines"] = (money, counts, sel)
    for mart, (money, counts, sel) in marts.items():
        sums = ", ".join(f"sum({c})" for c in (*money, *counts))
        row = con.execute(f"SELECT count(*), {sums} FROM ({sel})").fetchone()
        names = ("rows", *money, *counts)
        result[mart] = {n: int(v or 0) for n, v in zip(names, row, strict=True)}
    return result


def totals(outputs: list[MartOutput]) -> dict[str, dict[str, dict[str, int]]]:
    """{implementation: {mart: {"rows": n, column: total cents, ...}}}; cost_lines for
    publications only."""
    con = duckdb.connect()
    try:
        return {out.name: _totals_of(con, out) for out in outputs}
    finally:
        con.close()


def _differences(
    con: duckdb.DuckDBPyConnection,
    what: str,
    a: tuple[MartOutput, str],
    b: tuple[MartOutput, str],
    sample: int,
) -> list[str]:
    """Rows of one query missing from the other, both ways (EXCEPT ALL: duplicates count)."""
    problems = []
    for (x, left), (y, right) in ((a, b), (b, a)):
        n = con.execute(f"SELECT count(*) FROM ({left} EXCEPT ALL {right})").fetchone()[0]
        if n:
            rows = con.execute(
                f"SELECT * FROM ({left} EXCEPT ALL {right}) ORDER BY ALL LIMIT {sample}"
            ).fetchall()
            problems.append(f"{what}: {n} row(s) of {x.name} not in {y.name}, e.g. {rows}")
    return problems


def _compare_two_marts(
    con: duckdb.DuckDBPyConnection, ref: MartOutput, other: MartOutput, sample: int
) -> list[str]:
    problems = []
    for mart in MARTS:
        pair = ((ref, _select(ref, mart)), (other, _select(other, mart)))
        problems += _differences(con, mart, *pair, sample)
    return problems


def _schema(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({_sql_path(path)})").fetchall()
    ]


def _schema_difference(
    a: MartOutput, schema_a: list[tuple[str, str]], b: MartOutput, schema_b: list[tuple[str, str]]
) -> str:
    types_a, types_b = dict(schema_a), dict(schema_b)
    parts = [
        f"{c} {types_a[c]} in {a.name}, {types_b[c]} in {b.name}"
        for c in types_a
        if c in types_b and types_a[c] != types_b[c]
    ]
    if missing := [c for c in types_a if c not in types_b]:
        parts.append(f"{b.name} lacks {', '.join(missing)}")
    if extra := [c for c in types_b if c not in types_a]:
        parts.append(f"{b.name} adds {', '.join(extra)}")
    if not parts:
        parts.append(f"column order {list(types_a)} in {a.name}, {list(types_b)} in {b.name}")
    return "; ".join(parts)


def _month_files(out: MartOutput, mart: str) -> dict[str, Path]:
    folder = out.folder / mart
    if not folder.is_dir():
        raise MismatchError(f"{out.name}: {folder}/ (one file per month) is missing")
    return {p.stem: p for p in sorted(folder.glob("*.parquet"))}


def _compare_files(
    con: duckdb.DuckDBPyConnection,
    what: str,
    ref: tuple[MartOutput, Path],
    other: tuple[MartOutput, Path],
    sample: int,
) -> list[str]:
    """Same columns and types (in order), then the same rows, every column as it is."""
    (a, path_a), (b, path_b) = ref, other
    schema_a, schema_b = _schema(con, path_a), _schema(con, path_b)
    if schema_a != schema_b:
        return [
            f"{what}: columns and types differ: " + _schema_difference(a, schema_a, b, schema_b)
        ]
    sel = "SELECT * FROM read_parquet({})"
    pair = ((a, sel.format(_sql_path(path_a))), (b, sel.format(_sql_path(path_b))))
    return _differences(con, what, *pair, sample)


def _compare_publications(
    con: duckdb.DuckDBPyConnection, ref: MartOutput, other: MartOutput, sample: int
) -> list[str]:
    problems = []
    for mart in PUBLISHED:
        if mart not in MONTH_MARTS:
            path_a, path_b = (o.folder / f"{mart}.parquet" for o in (ref, other))
            for o, p in ((ref, path_a), (other, path_b)):
                if not p.is_file():
                    raise MismatchError(f"{o.name}: {p} is missing")
            problems += _compare_files(con, mart, (ref, path_a), (other, path_b), sample)
            continue
        files_a, files_b = _month_files(ref, mart), _month_files(other, mart)
        if files_a.keys() != files_b.keys():
            problems.append(
                f"{mart}: month files differ: {ref.name} {sorted(files_a)} vs "
                f"{other.name} {sorted(files_b)}"
            )
            continue
        for label, path_a in files_a.items():
            path_b = files_b[label]
            for o, p in ((ref, path_a), (other, path_b)):
                stray = con.execute(
                    f"SELECT count(*) FROM read_parquet({_sql_path(p)}) "
                    f"WHERE month IS DISTINCT FROM DATE '{label}-01'"
                ).fetchone()[0]
                if stray:
                    problems.append(
                        f"{mart}/{label}.parquet of {o.name}: {stray} row(s) of another month"
                    )
            what = f"{mart}/{label}.parquet"
            problems += _compare_files(con, what, (ref, path_a), (other, path_b), sample)
    return problems


def verify(outputs: list[MartOutput], sample: int = 5) -> dict[str, dict[str, int]]:
    """Raise MismatchError unless every output equals the first one, row by row: two
    publications in every published column and file, otherwise the two marts' columns.

    Returns the totals per mart of the first output, in cents.
    """
    reference, others = outputs[0], outputs[1:]
    con = duckdb.connect()
    problems = []
    try:
        for other in others:
            if reference.published and other.published:
                problems += _compare_publications(con, reference, other, sample)
            else:
                problems += _compare_two_marts(con, reference, other, sample)
        all_totals = {out.name: _totals_of(con, out) for out in outputs}
    finally:
        con.close()
    ref_totals = all_totals[reference.name]
    for other in others:
        mine = all_totals[other.name]
        for mart in (m for m in mine if m in ref_totals and mine[m] != ref_totals[m]):
            problems.append(
                f"{mart} totals differ: {reference.name} {ref_totals[mart]} vs "
                f"{other.name} {mine[mart]}"
            )
    if problems:
        names = ", ".join(o.name for o in outputs)
        raise MismatchError(f"the implementations ({names}) disagree:\n  " + "\n  ".join(problems))
    return ref_totals
