"""The plausibility guard: a value far outside its source's history is quarantined for review.

A source declares which values to watch (`plausibility:` in sources/*.yml, e.g. `quantity` and
`quantity * unit_price`). Per file, the 99th percentile of each watched |value| over its rows
without problems is kept in the ledger (`typical`). A file's reference is the median of these
percentiles over the files up to and including it, in path order (the delivery order); a row
whose value exceeds ingest.plausibility_factor x the reference is quarantined. The median makes
one bad file unable to move the reference, and a file's verdicts depend only on the files that
sort before it: appending a file never changes what earlier files yield.
"""

from __future__ import annotations

from statistics import median

import duckdb

from orchestration.duck import quote_ident
from orchestration.ingest.ledger import FileEntry
from orchestration.ingest.ranges import amount_sql, german_sql
from orchestration.sources.contracts import SourceContract

QUANTILE = 0.99


def typical_sql(contract: SourceContract) -> list[str]:
    """Aggregates over a part: the 99th percentile of each watched |value| over its rows
    without problems (zeros left out)."""
    out = []
    for term in contract.plausibility:
        value = f"abs({amount_sql(term)})"
        out.append(
            f"quantile_cont({value}, {QUANTILE}) FILTER (WHERE len(_problems) = 0 AND {value} > 0)"
        )
    return out


def references(
    current: list[FileEntry], terms: tuple[str, ...]
) -> dict[str, dict[str, float | None]]:
    """file key -> watched value -> reference: the median of the typical values of the files up
    to and including it (`current` is in path order)."""
    out, seen = {}, {t: [] for t in terms}
    for entry in current:
        for t in terms:
            if (v := entry.typical.get(t)) is not None:
                seen[t].append(v)
        out[entry.key] = {t: (median(seen[t]) if seen[t] else None) for t in terms}
    return out


def create_reference_table(
    con: duckdb.DuckDBPyConnection, terms: tuple[str, ...], refs: dict[str, dict]
) -> str:
    """Temp table `_plausible (_file_key, r0, r1, ...)` of the references; its name."""
    cols = ", ".join(f"r{i} DOUBLE" for i in range(len(terms)))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _plausible (_file_key VARCHAR, {cols})")
    rows = [[key, *(r[t] for t in terms)] for key, r in refs.items()]
    if rows:
        con.executemany(f"INSERT INTO _plausible VALUES (?{', ?' * len(terms)})", rows)
    return "_plausible"


def reference_columns(contract: SourceContract, alias: str) -> list[str]:
    """The references of a row's file, from `_plausible AS {alias}`, as plausibility_problems
    names them."""
    return [f"{alias}.r{i} AS __kam_pl{i}" for i in range(len(contract.plausibility))]


def plausibility_problems(contract: SourceContract, factor: float) -> list[str]:
    """Problem expressions for a row of the parts with its references (reference_columns)."""
    out = []
    for i, term in enumerate(contract.plausibility):
        value, ref = f"abs({amount_sql(term, quote_ident)})", f"__kam_pl{i}"
        name = term.replace(" * ", " x ")
        out.append(
            f"CASE WHEN len(_problems) = 0 AND {value} > {factor!r} * {ref} THEN "
            f"'implausible {name}: ' || {german_sql(value, 3)} || ' (more than {factor:g} x ' || "
            f"{german_sql(ref, 3)} || ', the median 99th percentile of {name} in the "
            f"{contract.name} files up to this one, ingest.plausibility_factor in "
            "config/warehouse.yml)' END"
        )
    return out
