"""Months waiting to be recomputed: the footprint of every change the ingest has made.

Before the ingest replaces a file's accepted rows, it records which months of the marts the
rows that differ (old and new versions) can touch, by the source's `affects_months` rule
(sources/*.yml). The record is written first and removed only after a publication succeeded,
so a run that fails half-way leaves it in place and the next run recomputes those months too.

One file per source, `warehouse/state/pending/<source>.json`, so sources never write the same
file; the scope step merges them (scope.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import duckdb

from orchestration.duck import quote_ident, quote_literal
from orchestration.scope.run_scope import next_month
from orchestration.settings import Settings
from orchestration.sources.contracts import AffectsMonths, SourceContract
from orchestration.state import pending_dir, pending_file, read_json, write_json_atomic


@dataclass
class Footprint:
    """Months of the marts that a set of changed rows can touch."""

    full: bool = False  # every month (a source without a month rule, a reparse of everything)
    months: set[date] = field(default_factory=set)
    open_from: date | None = None  # this month and every later one, through the latest month
    customers: set[str] = field(default_factory=set)  # every month with facts of these customers
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.full or bool(self.months or self.customers) or self.open_from is not None

    def add(self, other: Footprint) -> None:
        self.full |= other.full
        self.months |= other.months
        self.customers |= other.customers
        if other.open_from is not None:
            self.open_from = min(filter(None, [self.open_from, other.open_from]))
        self.reasons += [r for r in other.reasons if r not in self.reasons]

    def to_json(self) -> dict:
        return {
            "full": self.full,
            "months": sorted(m.isoformat() for m in self.months),
            "open_from": self.open_from.isoformat() if self.open_from else None,
            "customers": sorted(self.customers),
            "reasons": self.reasons,
        }

    @classmethod
    def from_json(cls, data: dict) -> Footprint:
        return cls(
            full=data.get("full", False),
            months={date.fromisoformat(m) for m in data.get("months", [])},
            open_from=date.fromisoformat(data["open_from"]) if data.get("open_from") else None,
            customers=set(data.get("customers", [])),
            reasons=list(data.get("reasons", [])),
        )


def footprint_of(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, relation: str, reason: str
) -> Footprint:
    """The footprint of the rows of `relation` (a SELECT or table with the source's columns)."""
    rule = contract.months_rule
    if rule == "none":
        return Footprint()
    if rule == "all":
        return Footprint(
            full=True,
            reasons=[
                f"{reason} (sources/{contract.name}.yml declares no affects_months: every month)"
            ],
        )
    assert isinstance(rule, AffectsMonths)
    fp = Footprint(reasons=[reason])
    if rule.customers:
        col = quote_ident(rule.customers)
        fp.customers = {
            str(v)
            for (v,) in con.execute(
                f"SELECT DISTINCT {col} FROM ({relation}) WHERE {col} IS NOT NULL"
            ).fetchall()
        }
        return fp
    start = f"CAST(date_trunc('month', {quote_ident(rule.from_)}) AS DATE)"
    if rule.through is None:
        end, is_open = start, "false"
    elif rule.through == "latest":
        end, is_open = start, "true"
    else:
        through = quote_ident(rule.through)
        end = f"CAST(date_trunc('month', {through}) AS DATE)"
        is_open = f"{through} IS NULL"
        if rule.through_when:
            applies = (
                f"{quote_ident(rule.through_when.column)} IN "
                f"({', '.join(quote_literal(v) for v in rule.through_when.values)})"
            )
            end = f"CASE WHEN {applies} THEN {end} ELSE {start} END"
            is_open = f"coalesce({applies} AND {is_open}, false)"
    ranges = con.execute(
        f"SELECT DISTINCT {start}, {end}, {is_open} FROM ({relation}) "
        f"WHERE {quote_ident(rule.from_)} IS NOT NULL"
    ).fetchall()
    for first, last, open_ended in ranges:
        if open_ended:
            fp.open_from = min(filter(None, [fp.open_from, first]))
        else:
            fp.months |= set(month_range(first, max(first, last or first)))
    return fp


def month_range(first: date, last: date) -> list[date]:
    months: list[date] = []
    m: date | None = first.replace(day=1)
    while m is not None and m <= last:
        months.append(m)
        m = next_month(m)
    return months


def add_pending(settings: Settings, name: str, footprint: Footprint) -> None:
    """Merge `footprint` into the pending record `name` (a source, or a request like a backfill)."""
    if not footprint:
        return
    path = pending_file(settings, name)
    stored = read_json(path)
    merged = Footprint() if stored is None else Footprint.from_json(stored)
    merged.add(footprint)
    write_json_atomic(path, merged.to_json())


def read_pending(settings: Settings) -> dict[str, Footprint]:
    folder = pending_dir(settings)
    if not folder.is_dir():
        return {}
    return {
        p.stem: Footprint.from_json(json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(folder.glob("*.json"))
    }


def clear_pending(settings: Settings, names: list[str]) -> None:
    """Forget the records the run that just published had taken into its scope."""
    for name in names:
        (pending_dir(settings) / f"{name}.json").unlink(missing_ok=True)
