"""Compact validation of a long table: a row-level GX suite decided on per-group counts.

A suite in expectations/ is written for rows, as GX would check the whole table as a DataFrame.
For a long table (the month-partitioned marts, the declared cost sources) DuckDB reduces the
table instead to one row per group (the suite's meta.reduction.group_by, e.g. month x
allocation x cost category) holding, for every expectation, the number of rows GX would count
as unexpected:

    not null            value IS NULL
    between             value outside the bounds (NULLs ignored, as GX does; strict bounds too)
    in set / regex      a non-NULL value outside the set / not matching the pattern
    unique / compound   rows whose key (NULL keys as GX ignores them) occurs more than once among
                        the validated rows; the keys' hashes are sorted first, and only keys
                        whose hash repeats are compared by value
    table row count     the sum of the groups' rows

An expectation fails on the rows exactly when some row is unexpected, so exactly when a group's
count is above 0: GX evaluates "count between 0 and 0" per group (and the row count on the sum),
writes the results into Data Docs and the failure names the expectation, the number of rows and
the groups. Derived columns (meta.derived_columns) are computed in the same query with exact
decimals. The frame has a few hundred rows however long the table is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestration.duck import quote_ident, quote_literal

ROWS = "rows"  # column of the compact frame: validated rows in the group
TABLE_ROWS = "table_rows"  # rows of the whole table (a scoped run validates some months)
TABLE_LEVEL = "expect_table_row_count_to_be_between"
SUPPORTED = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    TABLE_LEVEL,
)
# kwargs that change which rows count; anything else in a suite cannot be reduced exactly
_KNOWN_KWARGS = {
    "column",
    "column_list",
    "min_value",
    "max_value",
    "strict_min",
    "strict_max",
    "value_set",
    "regex",
    "ignore_row_if",
}


class ReductionError(ValueError):
    """A suite has an expectation the compact validation cannot decide exactly."""


@dataclass(frozen=True)
class Rule:
    """One row-level expectation and the SQL that marks the rows GX would count as unexpected."""

    column: str  # its count column in the compact frame
    expectation: dict[str, Any]
    unexpected: str  # SQL predicate over a validated row (not for uniqueness: see keys)
    checked: tuple[str, ...]  # the columns it looks at (shown next to sample rows)
    count: str | None = None  # aggregate counting the unexpected rows, if not a FILTER
    keys: tuple[str, ...] = ()  # uniqueness: the key columns ...
    keep: str = "true"  # ... and the rows whose key counts (GX ignores some with NULLs)

    def count_sql(self) -> str:
        return self.count or f"count(*) FILTER (WHERE {self.unexpected})"


@dataclass(frozen=True)
class Reduction:
    """How one suite is decided on a compact frame of `table` (the name its SQL refers to)."""

    name: str
    table: str
    source: str  # SQL relation holding the rows, e.g. main."cost_lines" or read_parquet('...')
    where: str  # SQL predicate selecting the validated rows (the run's months)
    group_by: tuple[str, ...]
    derived: dict[str, str]
    rules: tuple[Rule, ...]
    row_count: dict[str, Any] | None  # kwargs of expect_table_row_count_to_be_between
    sample_columns: tuple[str, ...]  # columns that let a controller find an offending row
    lookups: str = ""  # LEFT JOINs of the suite's meta.lookups (see lookup_joins)
    # When only some months are validated (a scoped run), the table's row count is still a
    # property of the whole table: this query counts it (by a column, so DuckDB computes no
    # other column of a view).
    table_rows_sql: str | None = None

    def frame_sqls(self) -> tuple[str, list[tuple[str, str]]]:
        """The queries of the compact frame: (rows per group, [(rule column, its query)]).

        The first counts every row rule in one pass over the rows (with derived columns and
        lookups), one row per group; each uniqueness rule has its own query counting, per group,
        the rows of its duplicated keys (groups without any are absent: 0). They run one after
        the other: in one query DuckDB held the pass and the sorts of the hashes at once, and at
        50M invoice lines that ran out of 1 GB where each alone stays within it."""
        groups = [quote_ident(g) for g in self.group_by]
        counts = [f"count(*) AS {quote_ident(ROWS)}"] + [
            f"{r.count_sql()} AS {quote_ident(r.column)}" for r in self.rules if not r.keys
        ]
        group = f" GROUP BY {', '.join(groups)}" if groups else ""
        order = f" ORDER BY {', '.join(groups)}" if groups else ""
        if self.table_rows_sql:
            counts.append(f"({self.table_rows_sql}) AS {quote_ident(TABLE_ROWS)}")
        rows = f"{self._with()} SELECT {', '.join(groups + counts)} FROM checked{group}{order}"
        per_key = [
            (r.column, f"{self._with()} {self._duplicate_rows(r)}") for r in self.rules if r.keys
        ]
        return rows, per_key

    def sample_sql(self, rule: Rule, limit: int = 5) -> str:
        """A few rows that break `rule`, found by the same predicate."""
        shown = list(dict.fromkeys([*self.sample_columns, *rule.checked]))
        cols = ", ".join(quote_ident(c) for c in shown)
        if not rule.keys:
            return (
                f"{self._with()} SELECT {cols} FROM checked WHERE {rule.unexpected} "
                f"ORDER BY {cols} LIMIT {int(limit)}"
            )
        keys = ", ".join(quote_ident(k) for k in rule.keys)
        match = " AND ".join(
            f"d.{quote_ident(k)} IS NOT DISTINCT FROM checked.{quote_ident(k)}" for k in rule.keys
        )
        return (
            f"{self._with()}, d AS (SELECT {keys} FROM {quote_ident(self.table)} "
            f"WHERE {rule.keep} AND {_hashed(rule.keys)} IN ({self._candidates(rule)}) "
            f"GROUP BY ALL HAVING count(*) > 1) "
            f"SELECT {cols} FROM checked SEMI JOIN d ON {match} WHERE {rule.keep} "
            f"ORDER BY {cols} LIMIT {int(limit)}"
        )

    def _with(self) -> str:
        src = quote_ident(self.table)
        derived = "".join(f", ({sql}) AS {quote_ident(n)}" for n, sql in self.derived.items())
        return (
            f"WITH {src} AS NOT MATERIALIZED (SELECT * FROM {self.source} WHERE {self.where}), "
            f"checked AS NOT MATERIALIZED (SELECT {src}.*{derived} FROM {src}{self.lookups})"
        )

    def _candidates(self, rule: Rule) -> str:
        """Hashes of keys that may occur twice: the sorted 32-bit hashes equal to the previous.

        Sorting 32-bit hashes took a third of the time of a hash table of every distinct key
        (17M cost lines); their collisions (about 35,000 at 17M keys) only add candidates that
        are then compared by value, they never hide a duplicate. The sort is split into 64
        ranges of hashes (PARTITION BY its top 6 bits): one sort of all 85M hashes (50M invoice
        lines) ran out of 1 GB, as did a hash table of them; 64 sorts stay within it."""
        return (
            f"SELECT h FROM (SELECT h, lag(h) OVER (PARTITION BY h >> 26 ORDER BY h) AS previous FROM "
            f"(SELECT {_hashed(rule.keys)} AS h FROM {quote_ident(self.table)} "
            f"WHERE {rule.keep})) WHERE h = previous"
        )

    def _duplicate_rows(self, rule: Rule) -> str:
        """Per group, the rows whose key occurs more than once among the validated rows."""
        groups = ", ".join(quote_ident(g) for g in self.group_by)
        keys = ", ".join(quote_ident(k) for k in rule.keys)
        candidates = (
            f"SELECT {groups + ', ' if groups else ''}count(*) OVER (PARTITION BY {keys}) AS copies "
            f"FROM {quote_ident(self.table)} "
            f"WHERE {rule.keep} AND {_hashed(rule.keys)} IN ({self._candidates(rule)})"
        )
        group = f" GROUP BY {groups}" if groups else ""
        return (
            f"SELECT {groups + ', ' if groups else ''}count(*) AS {quote_ident(rule.column)} "
            f"FROM ({candidates}) WHERE copies > 1{group}"
        )

    def gx_suite(self) -> dict[str, Any]:
        """The suite GX evaluates on the compact frame: one expectation per row-level one."""
        exps = []
        if self.row_count is not None and self.table_rows_sql:
            exps.append(
                {
                    "type": "expect_column_max_to_be_between",
                    "kwargs": {"column": TABLE_ROWS, **self.row_count},
                    "description": f"rows of {self.table}, all months: {_bounds(self.row_count)}",
                    "meta": {"row_level": {"type": TABLE_LEVEL, "kwargs": self.row_count}},
                }
            )
        elif self.row_count is not None:
            exps.append(
                {
                    "type": "expect_column_sum_to_be_between",
                    "kwargs": {"column": ROWS, **self.row_count},
                    "description": f"rows of {self.table} validated: {_bounds(self.row_count)}",
                    "meta": {"row_level": {"type": TABLE_LEVEL, "kwargs": self.row_count}},
                }
            )
        per = " x ".join(self.group_by) or "table"
        for r in self.rules:
            exps.append(
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {"column": r.column, "min_value": 0, "max_value": 0},
                    "description": f"rows per {per} breaking {describe(r.expectation)}: none",
                    "meta": {"row_level": r.expectation},
                }
            )
        return {"name": self.name, "meta": {"compact_of": self.table}, "expectations": exps}


def reduce_suite(
    spec: dict[str, Any],
    *,
    table: str,
    source: str,
    where: str = "true",
    group_by: tuple[str, ...] = (),
    sample_columns: tuple[str, ...] = (),
    scope_filter: Callable[[str], str] | None = None,
    count_column: str | None = None,
) -> Reduction:
    """The compact form of a row-level suite; raises ReductionError for what it cannot decide.

    `where` selects the validated rows; `scope_filter(column)` the same months in a lookup
    that declares a scope_column (rows of other months could not match anyway)."""
    meta = spec.get("meta", {})
    derived = dict(meta.get("derived_columns", {}))
    rules: list[Rule] = []
    row_count = None
    names: set[str] = set()
    for exp in spec.get("expectations", []):
        kind, kwargs = exp.get("type"), dict(exp.get("kwargs", {}))
        if kind not in SUPPORTED:
            raise ReductionError(f"{spec.get('name')}: no compact form for {kind}")
        if unknown := set(kwargs) - _KNOWN_KWARGS:
            raise ReductionError(f"{spec.get('name')}: {kind} with {sorted(unknown)}")
        if kind == TABLE_LEVEL:
            row_count = {k: v for k, v in kwargs.items() if v is not None}
            continue
        column = _unique_name(_label(kind, kwargs), names)
        rules.append(_rule(kind, kwargs, exp, column, derived))
    return Reduction(
        name=spec["name"],
        table=table,
        source=source,
        where=where,
        group_by=tuple(group_by),
        derived=derived,
        rules=tuple(rules),
        row_count=row_count,
        sample_columns=tuple(sample_columns),
        lookups=lookup_joins(table, meta.get("lookups", {}), scope_filter),
        table_rows_sql=(
            f"SELECT count({quote_ident(count_column)}) FROM {source}"
            if where != "true" and row_count is not None and count_column
            else None
        ),
    )


def lookup_joins(
    table: str, lookups: dict[str, Any], scope_filter: Callable[[str], str] | None = None
) -> str:
    """LEFT JOINs making a suite's meta.lookups available to its derived columns.

    A lookup {"from": relation, "on": [key columns], "values": {name: aggregate}} is the relation
    grouped by the keys (so at most one match per row), joined with `=` on the keys as a
    correlated subquery would be; a derived column reads it as <lookup>.<name>. Unlike a
    correlated subquery over a long table, DuckDB joins it without copying the outer rows.
    """
    joins = []
    for name, lk in lookups.items():
        on = list(lk["on"])
        keys = ", ".join(f"{quote_ident(k)} AS {quote_ident('__on_' + k)}" for k in on)
        values = ", ".join(f"{sql} AS {quote_ident(v)}" for v, sql in lk["values"].items())
        column = lk.get("scope_column")
        if column is not None and column not in on:
            raise ReductionError(f"lookup {name}: scope_column {column} is not a key")
        where = f" WHERE {scope_filter(quote_ident(column))}" if column and scope_filter else ""
        cond = " AND ".join(
            f"{quote_ident(name)}.{quote_ident('__on_' + k)} = {quote_ident(table)}.{quote_ident(k)}"
            for k in on
        )
        joins.append(
            f" LEFT JOIN (SELECT {keys}, {values} FROM {lk['from']}{where} GROUP BY ALL) "
            f"AS {quote_ident(name)} ON {cond}"
        )
    return "".join(joins)


def _rule(kind, kwargs, exp, column, derived) -> Rule:
    col = kwargs.get("column")
    q = quote_ident(col) if col else None
    if kind == "expect_column_values_to_not_be_null":
        # count(col) skips reading the column when DuckDB's statistics say it has no NULLs
        return Rule(column, exp, f"{q} IS NULL", (col,), count=f"count(*) - count({q})")
    if kind == "expect_column_values_to_be_between":
        return Rule(column, exp, f"{q} IS NOT NULL AND NOT ({_between(q, kwargs)})", (col,))
    if kind == "expect_column_values_to_be_in_set":
        values = kwargs.get("value_set") or []
        if not values:
            return Rule(column, exp, f"{q} IS NOT NULL", (col,))
        listed = ", ".join(literal(v) for v in values)
        return Rule(column, exp, f"{q} IS NOT NULL AND {q} NOT IN ({listed})", (col,))
    if kind == "expect_column_values_to_match_regex":
        pattern = literal(kwargs["regex"])
        return Rule(column, exp, f"{q} IS NOT NULL AND NOT regexp_matches({q}, {pattern})", (col,))
    # uniqueness: GX ignores NULL values of a single column; for several columns ignore_row_if
    if kind == "expect_column_values_to_be_unique":
        keys, keep = [col], f"{q} IS NOT NULL"
    else:
        keys = list(kwargs["column_list"])
        keep = _kept_rows(keys, kwargs.get("ignore_row_if", "all_values_are_missing"))
    if any(k in derived for k in keys):
        raise ReductionError(f"uniqueness of a derived column ({keys}) has no compact form")
    return Rule(column, exp, "", tuple(keys), keys=tuple(keys), keep=keep)


def _hashed(keys: tuple[str, ...]) -> str:
    return f"(hash({', '.join(quote_ident(k) for k in keys)}) >> 32)::UINTEGER"


def _kept_rows(keys: list[str], ignore_row_if: str) -> str:
    quoted = [quote_ident(k) for k in keys]
    if ignore_row_if == "all_values_are_missing":
        return "NOT (" + " AND ".join(f"{k} IS NULL" for k in quoted) + ")"
    if ignore_row_if == "any_value_is_missing":
        return " AND ".join(f"{k} IS NOT NULL" for k in quoted)
    if ignore_row_if == "never":
        return "true"
    raise ReductionError(f"ignore_row_if={ignore_row_if!r} has no compact form")


def _between(q: str, kwargs: dict[str, Any]) -> str:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is None and hi is None:
        raise ReductionError(f"between on {q} without min_value or max_value")
    parts = []
    if lo is not None:
        parts.append(f"{q} {'>' if kwargs.get('strict_min') else '>='} {literal(lo)}")
    if hi is not None:
        parts.append(f"{q} {'<' if kwargs.get('strict_max') else '<='} {literal(hi)}")
    return " AND ".join(parts)


def literal(value: Any) -> str:
    """A SQL literal for a value from a suite's kwargs."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ReductionError(f"bound {value} has no compact form")
        return repr(value) if value != int(value) else str(int(value))
    if isinstance(value, str):
        return quote_literal(value)
    raise ReductionError(f"value {value!r} has no compact form")


def describe(exp: dict[str, Any]) -> str:
    """expect_column_values_to_be_between(amount, min_value=0, max_value=100000000)"""
    kwargs = dict(exp.get("kwargs", {}))
    target = kwargs.pop("column", None) or kwargs.pop("column_list", None)
    if isinstance(kwargs.get("value_set"), list) and len(kwargs["value_set"]) > 4:
        kwargs["value_set"] = f"<{len(kwargs['value_set'])} values>"
    args = ([str(target)] if target else []) + [
        f"{k}={v}" for k, v in kwargs.items() if v is not None
    ]
    return f"{exp.get('type')}({', '.join(args)})"


def _label(kind: str, kwargs: dict[str, Any]) -> str:
    target = kwargs.get("column") or "_".join(kwargs.get("column_list", []))
    short = {
        "expect_column_values_to_not_be_null": "null",
        "expect_column_values_to_be_between": "out_of_range",
        "expect_column_values_to_be_in_set": "not_in_set",
        "expect_column_values_to_match_regex": "not_matching",
        "expect_column_values_to_be_unique": "duplicate",
        "expect_compound_columns_to_be_unique": "duplicate",
    }[kind]
    return f"{target}__{short}"


def _unique_name(name: str, taken: set[str]) -> str:
    n, candidate = 1, name
    while candidate in taken or candidate == ROWS:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def _bounds(kwargs: dict[str, Any]) -> str:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    return " and ".join(
        p
        for p in (
            f"at least {lo}" if lo is not None else "",
            f"at most {hi}" if hi is not None else "",
        )
        if p
    )
