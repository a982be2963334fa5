"""The scope of a refresh: every month (a full rebuild) or only the months its changes touch.

The scope asset of a run writes it to `warehouse/state/scope.json` before dbt starts; dbt (var
`kam_scope`), the GX checks of the month-partitioned marts and the publication read it from
there, so all of them work on exactly the same months. No file means a full rebuild.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.settings import Settings
from orchestration.state import scope_file, write_text_atomic


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

    def sql_filter(self, column: str) -> str:
        """A SQL predicate selecting the scope's rows by a month column (first-of-month dates)."""
        if self.full:
            return "true"
        if not self.months:
            return "false"
        listed = ", ".join(f"DATE '{m.isoformat()}'" for m in self.months)
        return f"{column} IN ({listed})"

    def dbt_var(self) -> dict[str, object]:
        return {"full": self.full, "months": [m.isoformat() for m in self.months]}

    def to_json(self) -> str:
        return json.dumps(self.dbt_var())

    @classmethod
    def from_json(cls, text: str) -> RunScope:
        data = json.loads(text)
        if data.get("full", True):
            return cls.everything()
        return cls.of_months(date.fromisoformat(m) for m in data.get("months", []))


def scope_path(settings: Settings) -> Path:
    return scope_file(settings)


def read_scope(settings: Settings) -> RunScope:
    path = scope_path(settings)
    if not path.exists():
        return RunScope.everything()
    return RunScope.from_json(path.read_text(encoding="utf-8"))


def write_scope(settings: Settings, scope: RunScope) -> None:
    write_text_atomic(scope_path(settings), scope.to_json())
