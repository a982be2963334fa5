"""Rules that judge a value by the file it came from, not by its declaration alone.

- Plausible dates: a window anchored on the day the file first arrived (DateWindow), so a later
  run's clock never changes what a file yields.
- The number locale: German `1.250` is 1250, US `1.250` is 1.25. A file that writes any number
  US-style (`100.00`, readable only with `.` as the decimal mark) cannot be trusted with numbers
  whose reading depends on the locale, so those rows are quarantined too, with the evidence;
  numbers that read the same either way (`938`, `1.234,56`) stay accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from orchestration.settings import DatesConfig
from orchestration.sources.contracts import Column

# A number only a US reader can read (applied to values German parsing rejected).
US_NUMBER = r"[+-]?(\d{1,3}(,\d{3})+|\d+)\.\d+-?"
# One separator followed by three digits: a thousands mark or a decimal mark, by locale.
AMBIGUOUS_NUMBER = r"[+-]?[1-9]\d{0,2}[.,]\d{3}-?"
US_FORMAT = "number in US format in "


@dataclass(frozen=True)
class DateWindow:
    """Plausible dates of one file: from `earliest` (or a column's own `earliest`) to `latest`,
    the day the file was first ingested (`received`) plus `days_ahead`."""

    earliest: date
    received: date
    days_ahead: int

    @classmethod
    def of(cls, config: DatesConfig, received: date) -> DateWindow:
        return cls(config.earliest, received, config.days_ahead)

    @property
    def latest(self) -> date:
        return self.received + timedelta(days=self.days_ahead)


@dataclass(frozen=True)
class FileRules:
    fmt: str = "csv"
    window: DateWindow | None = None
    # Evidence that the file writes numbers US-style, e.g. 'row 3 unit_price "100.00"'.
    us_numbers: str | None = None


PLAIN_CSV = FileRules()


def date_window_problem(col: Column, typed: str, shown: str, window: DateWindow) -> str:
    earliest = col.earliest or window.earliest
    first = (
        f"{col.name}.earliest in sources/*.yml"
        if col.earliest
        else "ingest.dates.earliest in config/warehouse.yml"
    )
    outside = f"'date outside the plausible window in {col.name}: ' || {shown}"
    return (
        f"CASE WHEN {typed} < DATE '{earliest}' THEN {outside} || "
        f"' (before {earliest:%d.%m.%Y}, the earliest plausible date: {first})' "
        f"WHEN {typed} > DATE '{window.latest}' THEN {outside} || "
        f"' (after {window.latest:%d.%m.%Y}, the latest plausible date: the file arrived "
        f"{window.received:%d.%m.%Y}, + ingest.dates.days_ahead {window.days_ahead} days in "
        "config/warehouse.yml)' END"
    )


def us_format_reason(col: Column, text: str, shown: str, otherwise: str) -> str:
    """The reason for an unparseable number: US format (evidence for the file), or `otherwise`."""
    return (
        f"CASE WHEN regexp_full_match({text}, '{US_NUMBER}') THEN '{US_FORMAT}{col.name}: ' "
        f"|| {shown} || ' (a decimal point, but numbers are read in German format, 1.234,56)' "
        f"ELSE {otherwise} END"
    )


def ambiguous_problem(col: Column, text: str, shown: str, evidence: str) -> str:
    said = evidence.replace("'", "''")
    return (
        f"CASE WHEN regexp_full_match({text}, '{AMBIGUOUS_NUMBER}') THEN "
        f"'number ambiguous in this file in {col.name}: ' || {shown} || ' (it reads "
        f"differently in German and US format, and the file writes numbers US-style: {said})' END"
    )
