"""The activity catalogue: the rates of time-driven activity-based costing, as configuration.

`config/activity_rates.csv` (under version control) holds one row per activity and validity
period: which cost category the activity belongs to, which driver measures it, the rate per
driver unit, the currency of the rate and the validity dates (inclusive; empty valid_to = open).
A rate change is a new row from the change date on, with the previous row ending the day before;
activity on or after the change date is priced at the new rate, earlier activity keeps the old.

The drivers are measured by the warehouse (dbt model int_activity_drivers / int_financing_drivers);
the catalogue can only price drivers listed in DRIVERS. Validation here is strict and complete:
every problem is reported with the file, the row (1 = first row after the header) and what is
wrong, and any problem stops the refresh before anything is built or published.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from orchestration.settings import PROJECT_ROOT, ConfigError
from orchestration.sources.categories import cost_categories

COLUMNS = (
    "activity",
    "cost_category",
    "driver",
    "rate",
    "currency",
    "valid_from",
    "valid_to",
    "description",
)
REQUIRED = ("activity", "cost_category", "driver", "rate", "valid_from")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_DECIMALS = 6


@dataclass(frozen=True)
class Driver:
    unit: str
    source: str
    money: bool = False  # rate is an annual interest rate on an amount, not a price per unit


DRIVERS: dict[str, Driver] = {
    "orders": Driver("sales order (invoice document)", "invoice_lines"),
    "order_lines": Driver("order line (invoice line)", "invoice_lines"),
    "credit_notes": Driver("credit note document", "invoice_lines"),
    "shipments": Driver("shipment (delivery note)", "shipments"),
    "express_shipments": Driver("express shipment", "shipments"),
    "shipped_kg": Driver("kg shipped", "shipments"),
    "quote_hours": Driver("hour spent on a quote", "quotations"),
    "tender_hours": Driver("hour spent on tender documents", "quotations"),
    "receivable_years_in_terms": Driver(
        "reporting-currency year of receivable within the payment terms", "invoice_lines", True
    ),
    "receivable_years_late": Driver(
        "reporting-currency year of receivable past the due date", "invoice_lines", True
    ),
}


def known_drivers() -> dict[str, Driver]:
    """The built-in drivers plus those of the driver-based cost sources declared in sources/."""
    from orchestration.sources.contracts import DriverAllocation, load_contracts

    drivers = dict(DRIVERS)
    for c in load_contracts().values():
        if c.cost and isinstance(c.cost.allocation, DriverAllocation):
            drivers.setdefault(c.cost.allocation.driver, Driver(c.cost.allocation.unit, c.name))
    return drivers


class CatalogueError(ConfigError):
    """The activity catalogue is invalid; the message names the file, the rows and the problems."""


class ActivityRate(BaseModel):
    """One row of the catalogue, validated. `model_validate(row, context=...)` needs the known
    cost categories and drivers in its context (see `load_catalogue`)."""

    model_config = ConfigDict(frozen=True)

    row: int
    activity: str
    cost_category: str
    driver: str
    rate: Decimal
    currency: str | None
    valid_from: date
    valid_to: date | None
    description: str = ""

    @field_validator(*REQUIRED, mode="before")
    @classmethod
    def _present(cls, v: object, info: ValidationInfo) -> object:
        if v is None or v == "":  # a rate of 0 is present (it stops pricing an activity)
            raise ValueError(f"missing {info.field_name}")
        return v

    @field_validator("activity")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if not IDENTIFIER.match(v):
            raise ValueError(f"activity {v!r} is not a plain identifier ([a-z][a-z0-9_]*)")
        return v

    @field_validator("cost_category")
    @classmethod
    def _category(cls, v: str, info: ValidationInfo) -> str:
        if v not in info.context["categories"]:
            raise ValueError(
                f"unknown cost category {v!r} (known: dbt_project/seeds/cost_categories.csv)"
            )
        return v

    @field_validator("driver")
    @classmethod
    def _driver(cls, v: str, info: ValidationInfo) -> str:
        if v not in info.context["drivers"]:
            raise ValueError(f"unknown driver {v!r} (known: {', '.join(info.context['drivers'])})")
        return v

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, v: str) -> Decimal | None:
        if not v:
            return None  # reported as missing
        try:
            value = Decimal(v)
        except InvalidOperation:
            raise ValueError(
                f"rate {v!r} is not a number (use . as decimal mark, e.g. 2.80)"
            ) from None
        if not value.is_finite():
            raise ValueError(f"rate {v!r} is not a number")
        if -value.as_tuple().exponent > MAX_DECIMALS:
            raise ValueError(f"rate {v} has more than {MAX_DECIMALS} decimals")
        if value < 0:
            raise ValueError(f"negative rate {v} (rates must be >= 0)")
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, v: str) -> str | None:
        if not v:
            return None
        if not CURRENCY.match(v.upper()):
            raise ValueError(f"currency {v!r} is not an ISO 4217 code")
        return v.upper()

    @field_validator("valid_from", "valid_to", mode="before")
    @classmethod
    def _date(cls, v: str, info: ValidationInfo) -> date | None:
        if not v:
            return None
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{info.field_name} {v!r} is not a date (yyyy-mm-dd)") from None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> ActivityRate:
        problems = []
        driver = info.context["drivers"][self.driver]
        if driver.money:
            if self.currency:
                problems.append(
                    f"driver {self.driver} is an amount of receivables: its rate is an annual "
                    "interest rate (e.g. 0.05 = 5 %), so currency must be empty, got "
                    f"{self.currency}"
                )
            if self.rate > 1:
                problems.append(f"annual interest rate {self.rate} > 1 (write 5 % as 0.05)")
        elif not self.currency:
            problems.append(f"missing currency of the rate per {driver.unit}")
        if self.valid_to and self.valid_to < self.valid_from:
            problems.append(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def overlaps(self, other: ActivityRate) -> bool:
        end_a, end_b = self.valid_to or date.max, other.valid_to or date.max
        return self.valid_from <= end_b and other.valid_from <= end_a

    @property
    def period(self) -> str:
        end = f"{self.valid_to:%Y-%m-%d}" if self.valid_to else "open"
        return f"{self.valid_from:%Y-%m-%d}..{end}"


def shown(path: Path) -> str:
    """A path as a person finds it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def load_catalogue(path: Path) -> list[ActivityRate]:
    """Read and validate the catalogue; raise CatalogueError listing every problem found."""
    name = shown(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogueError(f"{name}: cannot read the activity catalogue: {e}") from None
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        parts = [f"missing column(s) {', '.join(missing)}"] if missing else []
        parts += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        raise CatalogueError(f"{name}: {'; '.join(parts)} (expected: {', '.join(COLUMNS)})")
    problems: list[str] = []
    rates: list[ActivityRate] = []
    context = {"categories": set(cost_categories()), "drivers": known_drivers()}
    for row_number, raw in enumerate(reader, start=1):
        if None in raw:  # more fields than header columns
            problems.append(f"{name} row {row_number}: more fields than the header has columns")
            continue
        values = {k: (v or "").strip() for k, v in raw.items()}
        if not any(values.values()):
            continue
        try:
            rates.append(ActivityRate.model_validate(values | {"row": row_number}, context=context))
        except ValidationError as e:
            problems += [f"{name} row {row_number}: {p}" for p in _messages(e)]
    problems += [f"{name} {p}" for p in _cross_row_problems(rates)]
    if not rates and not problems:
        problems.append(f"{name}: the activity catalogue has no rows")
    if problems:
        raise CatalogueError("invalid activity catalogue:\n  " + "\n  ".join(problems))
    return rates


def _messages(error: ValidationError) -> list[str]:
    return [
        line
        for err in error.errors()
        for line in err["msg"].removeprefix("Value error, ").split("\n")
    ]


def _cross_row_problems(rates: list[ActivityRate]) -> list[str]:
    """One activity = one category and one driver; its validity periods must not overlap."""
    problems = []
    by_activity: dict[str, list[ActivityRate]] = {}
    for r in rates:
        by_activity.setdefault(r.activity, []).append(r)
    for activity, versions in by_activity.items():
        first = versions[0]
        for r in versions[1:]:
            if (r.cost_category, r.driver) != (first.cost_category, first.driver):
                problems.append(
                    f"row {r.row}: activity {activity!r} has cost category {r.cost_category} and "
                    f"driver {r.driver}, but row {first.row} gives {first.cost_category} and "
                    f"{first.driver} (one activity, one category and driver; add a new activity)"
                )
        ordered = sorted(versions, key=lambda r: (r.valid_from, r.row))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                if a.overlaps(b):
                    later, earlier = (a, b) if a.row > b.row else (b, a)
                    problems.append(
                        f"row {later.row}: validity {later.period} of activity {activity!r} "
                        f"overlaps row {earlier.row} ({earlier.period}); end the earlier period "
                        "the day before the new rate applies"
                    )
    return problems
