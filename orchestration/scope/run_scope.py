"""The scope of a refresh: every month (a full rebuild) or only the months its changes touch.

The scope asset of a run writes it to `warehouse/state/scope.json` before dbt starts; dbt (the
file's path in KAM_DBT_SCOPE_FILE, read by dbt_project/macros/scope.sql), the GX checks of the
month-partitioned marts and the publication read it from there, so all of them work on exactly
the same months. No file means a full rebuild.

A scope can hold any number of months (a date read as year 0025 puts 24,000 in it), so it
travels as a file, never as an argument or environment value, and every SQL filter and log
line names it by ranges of consecutive months.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.settings import Settings
from orchestration.state import scope_file, write_text_atomic


def month_label(m: date) -> str:
    """yyyy-mm with four digits (strftime('%Y') prints year 25 as '25')."""
    return f"{m.year:04d}-{m.month:02d}"


def next_month(m: date) -> date | None:
    """The first day of the following month; None after December 9999 (no such date)."""
    return (
        None
        if m.year == 9999 and m.month == 12
        else date(m.year + m.month // 12, m.month % 12 + 1, 1)
    )


@dataclass(frozen=True)
class RunScope:
    full: bool
    months: tuple[date, ...] = ()  # first days of the months to recompute (empty when full)

    @classmethod
    def everything(cls) -> RunScope:
        return cls(full=True)

    @classmethod
    def of_months(cls, months) -> RunScope:
        return cls(full=False, months=tuple(sorted({m.replace(day=1) for m in months})))

    def covers(self, month: date) -> bool:
        return self.full or month.replace(day=1) in self.months

    def ranges(self) -> list[tuple[date, date]]:
        """Consecutive months as (first month, last month)."""
        out: list[list[date]] = []
        for m in self.months:
            if out and next_month(out[-1][1]) == m:
                out[-1][1] = m
            else:
                out.append([m, m])
        return [(a, b) for a, b in out]

    def describe(self, limit: int = 8) -> str:
        """For a person: 'every month', 'no month' or '2025-03..2025-05, 2025-12 (4 months)'."""
        if self.full:
            return "every month"
        if not self.months:
            return "no month"
        shown = [
            month_label(a) if a == b else f"{month_label(a)}..{month_label(b)}"
            for a, b in self.ranges()
        ]
        more = f" and {len(shown) - limit} more range(s)" if len(shown) > limit else ""
        return f"{', '.join(shown[:limit])}{more} ({len(self.months)} month(s))"

    def sql_filter(self, column: str) -> str:
        """A SQL predicate selecting the scope's rows by a month column (first-of-month dates)."""
        if self.full:
            return "true"
        if not self.months:
            return "false"
        return "(" + " OR ".join(_between(column, a, b) for a, b in self.ranges()) + ")"

    def dbt_var(self) -> dict[str, object]:
        """The scope as the dbt var `kam_scope` takes it by hand (and built.json records it)."""
        return {"full": self.full, "months": [m.isoformat() for m in self.months]}

    def to_json(self) -> str:
        """scope.json: the months, and the ranges the dbt macro reads (`before`: the first day
        after the range, null after December 9999)."""
        ranges = [{"from": a.isoformat(), "before": _iso(next_month(b))} for a, b in self.ranges()]
        return json.dumps(self.dbt_var() | {"ranges": ranges})

    @classmethod
    def from_json(cls, text: str) -> RunScope:
        data = json.loads(text)
        if data.get("full", True):
            return cls.everything()
        return cls.of_months(date.fromisoformat(m) for m in data.get("months", []))


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _between(column: str, first: date, last: date) -> str:
    """Bounds by constant dates, so DuckDB skips row groups and files by their min/max."""
    after = next_month(last)
    upper = "" if after is None else f" AND {column} < DATE '{after.isoformat()}'"
    return f"({column} >= DATE '{first.isoformat()}'{upper})"


def scope_path(settings: Settings) -> Path:
    return scope_file(settings)


def read_scope(settings: Settings) -> RunScope:
    path = scope_path(settings)
    if not path.exists():
        return RunScope.everything()
    return RunScope.from_json(path.read_text(encoding="utf-8"))


def write_scope(settings: Settings, scope: RunScope) -> None:
    write_text_atomic(scope_path(settings), scope.to_json())
