"""Check that the pipeline and the baselines computed the same marts, before any timing counts.

Each implementation leaves `key_account_value.parquet` and `cost_to_serve.parquet` in a folder;
the pipeline's folder is its publication, where cost_to_serve is one file per month
(`cost_to_serve/<YYYY-MM>.parquet`, read as a whole);
money is DECIMAL(…, 2) (pipeline, bare DuckDB) or integer cents (pandas). Both marts are
compared in integer cents, row by row on their keys, and the totals of every money column are
reported; any difference stops the benchmark.
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
MARTS = {
    "key_account_value": (("account_id", "month"), KAV_MONEY, ()),
    "cost_to_serve": (("account_id", "month", "cost_category"), ("amount",), ("cost_line_count",)),
}


class MismatchError(AssertionError):
    """The implementations disagree; the message shows where."""


@dataclass(frozen=True)
class MartOutput:
    name: str  # "pipeline", "duckdb", "pandas"
    folder: Path
    money_in_cents: bool = False


def _select(con: duckdb.DuckDBPyConnection, out: MartOutput, mart: str) -> str:
    keys, money, counts = MARTS[mart]
    path = mart_files(out, mart)
    factor = "" if out.money_in_cents else " * 100"
    cols = [
        "CAST(month AS DATE) AS month" if k == "month" else f"CAST({k} AS VARCHAR) AS {k}"
        for k in keys
    ]
    cols += [f"CAST({m}{factor} AS HUGEINT) AS {m}" for m in money]
    cols += [f"CAST({c} AS BIGINT) AS {c}" for c in counts]
    return f"SELECT {', '.join(cols)} FROM read_parquet('{path}')"


def mart_files(out: MartOutput, mart: str) -> str:
    """`<mart>.parquet`, or the month files `<mart>/*.parquet` of a partitioned publication."""
    single, months = out.folder / f"{mart}.parquet", out.folder / mart
    if single.is_file():
        return str(single)
    if months.is_dir() and any(months.glob("*.parquet")):
        return str(months / "*.parquet")
    raise MismatchError(f"{out.name}: {single} (or {months}/*.parquet) is missing")


def totals(outputs: list[MartOutput]) -> dict[str, dict[str, dict[str, int]]]:
    """{implementation: {mart: {"rows": n, column: total cents, ...}}}."""
    con = duckdb.connect()
    result: dict[str, dict[str, dict[str, int]]] = {}
    try:
        for out in outputs:
            result[out.name] = {}
            for mart, (_, money, counts) in MARTS.items():
                cols = ", ".join(f"sum({c})" for c in (*money, *counts))
                row = con.execute(
                    f"SELECT count(*), {cols} FROM ({_select(con, out, mart)})"
                ).fetchone()
                names = ("rows", *money, *counts)
                result[out.name][mart] = {n: int(v or 0) for n, v in zip(names, row, strict=True)}
    finally:
        con.close()
    return result


def verify(outputs: list[MartOutput], sample: int = 5) -> dict[str, dict[str, int]]:
    """Raise MismatchError unless every output equals the first one, row by row.

    Returns the (common) totals per mart, in cents.
    """
    reference, others = outputs[0], outputs[1:]
    con = duckdb.connect()
    problems = []
    try:
        for mart in MARTS:
            ref = _select(con, reference, mart)
            for other in others:
                mine = _select(con, other, mart)
                for a, b, left, right in (
                    (reference, other, ref, mine),
                    (other, reference, mine, ref),
                ):
                    n = con.execute(f"SELECT count(*) FROM ({left} EXCEPT ALL {right})").fetchone()[
                        0
                    ]
                    if n:
                        rows = con.execute(
                            f"SELECT * FROM ({left} EXCEPT ALL {right}) ORDER BY ALL LIMIT {sample}"
                        ).fetchall()
                        problems.append(
                            f"{mart}: {n} row(s) of {a.name} not in {b.name}, e.g. {rows}"
                        )
    finally:
        con.close()
    all_totals = totals(outputs)
    for other in others:
        if all_totals[other.name] != all_totals[reference.name]:
            problems.append(
                f"totals differ: {reference.name} {all_totals[reference.name]} vs "
                f"{other.name} {all_totals[other.name]}"
            )
    if problems:
        names = ", ".join(o.name for o in outputs)
        raise MismatchError(f"the implementations ({names}) disagree:\n  " + "\n  ".join(problems))
    return all_totals[reference.name]
