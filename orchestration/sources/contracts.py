"""Raw data contracts: one YAML declaration per source in `sources/`, validated by pydantic.

A declaration names the columns a company must deliver, their types and the row rules. The
ingest code is generic: it reads nothing about a source that is not in its declaration.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestration.settings import SOURCES_DIR, ConfigError
from orchestration.sources.categories import cost_categories
from orchestration.yaml_errors import describe_yaml_error, where_key

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
DECIMAL_TYPE = re.compile(r"^decimal\((\d{1,2}),(\d{1,2})\)$")
SIMPLE_TYPES = {"text", "integer", "date", "currency", "cost_category"}
EXCHANGE_RATES = "exchange_rates"


class ContractError(ConfigError):
    """A declaration file is invalid; the message names the file, the line and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    name: str
    type: str
    required: bool = False
    description: str
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    earliest: date | None = Field(
        default=None,
        description="Date columns: earliest plausible date, instead of ingest.dates.earliest "
        "in config/warehouse.yml (e.g. for a customer relationship that began before 2000).",
    )

    @model_validator(mode="after")
    def _earliest_on_dates(self) -> Column:
        if self.earliest is not None and self.type != "date":
            raise ValueError(f"earliest: only for date columns ({self.name} is {self.type})")
        return self

    @field_validator("name")
    @classmethod
    def _plain_identifier(cls, v: str) -> str:
        if not IDENTIFIER.match(v):
            raise ValueError(f"column name {v!r} is not a plain identifier ([a-z_][a-z0-9_]*)")
        return v

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in SIMPLE_TYPES and not DECIMAL_TYPE.match(v):
            raise ValueError(
                f"unknown type {v!r}; use one of {sorted(SIMPLE_TYPES)} or decimal(p,s)"
            )
        return v

    @property
    def duckdb_type(self) -> str:
        if self.type == "integer":
            return "BIGINT"
        if self.type == "date":
            return "DATE"
        if m := DECIMAL_TYPE.match(self.type):
            return f"DECIMAL({m.group(1)},{m.group(2)})"
        return "VARCHAR"

    @property
    def scale(self) -> int:
        m = DECIMAL_TYPE.match(self.type)
        return int(m.group(2)) if m else 0

    @property
    def precision(self) -> int:
        """Digits of a numeric column as DuckDB counts them (BIGINT multiplies as 19 digits)."""
        m = DECIMAL_TYPE.match(self.type)
        return int(m.group(1)) if m else 19

    @property
    def is_numeric(self) -> bool:
        return self.type == "integer" or self.type.startswith("decimal")


class Reference(_Strict):
    column: str
    source: str
    source_columns: tuple[str, ...] | None = Field(
        default=None,
        description="Columns of the referenced source whose values the column may take "
        "(default: the column of the same name).",
    )

    @property
    def target_columns(self) -> tuple[str, ...]:
        return self.source_columns or (self.column,)


class CurrencyRule(_Strict):
    column: str
    date_column: str | None = None


TERM = re.compile(r"^\s*[a-z_][a-z0-9_]*(\s*\*\s*[a-z_][a-z0-9_]*)*\s*$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
GLOB_PART = re.compile(r"^[A-Za-z0-9_.*?\-\[\]]+$")


def _plain_column(v: str, what: str = "column name") -> str:
    if not isinstance(v, str) or not IDENTIFIER.match(v):
        raise ValueError(f"{what} {v!r} is not a plain identifier ([a-z_][a-z0-9_]*)")
    return v


def _sum_of_products(v: str) -> str:
    for term in v.split("+"):
        if not TERM.match(term):
            raise ValueError(
                f"amount term {term.strip()!r} is not a column or a product of columns "
                "(plain identifiers joined by * and +)"
            )
    return v


def terms_of(amount: str) -> list[list[str]]:
    """'hours * hourly_rate + material_amount' -> [['hours', 'hourly_rate'], ['material_amount']]"""
    return [[f.strip() for f in t.split("*")] for t in amount.split("+")]


def _plain_text(v: str) -> str:
    """Descriptions reach generated dbt files, which dbt renders with Jinja: no braces."""
    if "{" in v or "}" in v:
        raise ValueError("text must not contain { or } (dbt would evaluate it as Jinja)")
    return v


class FileFormat(_Strict):
    """How the files are read. CSV is the German ERP dialect (`,` decimal mark, `.` thousands
    mark, dd.mm.yyyy dates, UTF-8 or Windows-1252); only the field separator can vary."""

    type: Literal["csv", "parquet"] = "csv"
    delimiter: Literal[";", ",", "\t", "|"] = ";"


class CategoryRule(_Strict):
    """The category of each row: a column holding category ids, or a column whose values are
    mapped onto category ids (an unmapped value stops the refresh)."""

    column: str
    map: dict[str, str] | None = None

    @field_validator("column")
    @classmethod
    def _plain(cls, v: str) -> str:
        return _plain_column(v)

    @field_validator("map")
    @classmethod
    def _known_categories(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        for source_value, category in (v or {}).items():
            if category not in cost_categories():
                raise ValueError(
                    f"value {source_value!r} maps onto unknown category {category!r} "
                    f"(known: {', '.join(cost_categories())})"
                )
        return v


class DriverAllocation(_Strict):
    """Driver-based allocation: each row is a driver volume (`quantity`) priced by the activity
    of the rate catalogue (config/activity_rates.csv) that prices `driver`."""

    activity: str
    driver: str
    quantity: str
    unit: str = Field(default="unit", description="What one unit of the driver is (for docs).")

    @field_validator("activity", "driver")
    @classmethod
    def _plain_id(cls, v: str, info) -> str:
        return _plain_column(v, info.field_name)

    @field_validator("quantity")
    @classmethod
    def _plain(cls, v: str) -> str:
        return _plain_column(v)


class CostMapping(_Strict):
    """The `cost:` section: how a source's rows become cost lines (see docs/cost-sources.md)."""

    owner: str
    customer: str | None = Field(default=None, description="Column with the customer id.")
    account: str | None = Field(default=None, description="Column with the key-account id.")
    date: str
    currency: str
    source_id: str | None = None
    category: str | CategoryRule | None = None
    allocation: Literal["direct"] | DriverAllocation = "direct"
    amount: str | None = Field(
        default=None,
        description="Sum of terms, each a numeric column or a product of numeric columns, "
        "e.g. 'hours * hourly_rate + material_amount'; each term is rounded to the cent.",
    )
    detail: str | None = Field(
        default=None,
        description="Drill-down text, e.g. 'ticket {ticket_id}[ - {description}]'; a part in "
        "[...] is left out when a column in it is empty.",
    )

    @field_validator("owner")
    @classmethod
    def _no_braces(cls, v: str) -> str:
        return _plain_text(v)

    @field_validator("customer", "account", "date", "currency", "source_id")
    @classmethod
    def _plain(cls, v: str | None) -> str | None:
        return None if v is None else _plain_column(v)

    @field_validator("category")
    @classmethod
    def _known_category(cls, v: str | CategoryRule | None) -> str | CategoryRule | None:
        if isinstance(v, str) and v not in cost_categories():
            raise ValueError(
                f"unknown category {v!r} (known: {', '.join(cost_categories())}); or give "
                "{column: ..., map: {...}}"
            )
        return v

    @field_validator("amount")
    @classmethod
    def _amount_terms(cls, v: str | None) -> str | None:
        return None if v is None else _sum_of_products(v)

    @field_validator("detail")
    @classmethod
    def _detail_template(cls, v: str | None) -> str | None:
        if v is None:
            return v
        depth = 0
        for ch in PLACEHOLDER.sub("", v):
            if ch in "{}":
                raise ValueError("unbalanced { } in detail (write {column} to insert a value)")
            depth += {"[": 1, "]": -1}.get(ch, 0)
            if depth not in (0, 1):
                raise ValueError("[...] in detail must not be nested or unbalanced")
        if depth:
            raise ValueError("[...] in detail must not be nested or unbalanced")
        for name in PLACEHOLDER.findall(v):
            _plain_column(name, "detail placeholder")
        return v

    @model_validator(mode="after")
    def _required_fields(self) -> CostMapping:
        if (self.customer is None) == (self.account is None):
            raise ValueError("map exactly one of customer (a customer id column) or account")
        if self.allocation == "direct":
            if self.amount is None:
                raise ValueError("amount: missing mapping (required for allocation: direct)")
            if self.category is None:
                raise ValueError(
                    "category: missing mapping (a category id, or {column: ..., map: ...})"
                )
        else:
            if self.amount is not None:
                raise ValueError(
                    "amount: not allowed with a driver-based allocation (the amount is "
                    "quantity x the catalogue rate)"
                )
            if self.category is not None:
                raise ValueError(
                    "category: not allowed with a driver-based allocation (the category is the "
                    "activity's in config/activity_rates.csv)"
                )
        return self

    @property
    def is_direct(self) -> bool:
        return self.allocation == "direct"

    def amount_terms(self) -> list[list[str]]:
        assert self.amount is not None
        return terms_of(self.amount)

    def used_columns(self) -> dict[str, str]:
        """key in the declaration -> column it names."""
        used = {
            k: getattr(self, k)
            for k in ("customer", "account", "date", "currency", "source_id")
            if getattr(self, k)
        }
        if isinstance(self.category, CategoryRule):
            used["category.column"] = self.category.column
        if isinstance(self.allocation, DriverAllocation):
            used["allocation.quantity"] = self.allocation.quantity
        if self.amount:
            for i, col in enumerate(c for t in self.amount_terms() for c in t):
                used[f"amount[{i}]"] = col
        for name in PLACEHOLDER.findall(self.detail or ""):
            used[f"detail.{{{name}}}"] = name
        return used


class ThroughWhen(_Strict):
    column: str
    values: tuple[str, ...]

    @field_validator("column")
    @classmethod
    def _plain(cls, v: str) -> str:
        return _plain_column(v)


class AffectsMonths(_Strict):
    """Which months of the month-partitioned marts a row of this source can change, so that an
    incremental refresh recomputes exactly those months (orchestration/incremental/).

    - `from`: a date column, the row's own month;
    - `through`: a later date column the row matters up to (an empty value in it: through the
      latest month; e.g. an invoice accrues financing cost until it is paid), or `latest`;
    - `through_when`: `through` applies only to rows whose column has one of these values
      (e.g. only invoices are financed, not credit notes): `{column: ..., values: [...]}`;
    - `customers`: the row is master data of the customer in this column: every month with
      facts of that customer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: str | None = Field(default=None, alias="from")
    through: str | None = None
    through_when: ThroughWhen | None = None
    customers: str | None = None

    @field_validator("from_", "through", "customers")
    @classmethod
    def _plain(cls, v: str | None) -> str | None:
        return None if v is None else _plain_column(v)

    @model_validator(mode="after")
    def _one_kind(self) -> AffectsMonths:
        if (self.from_ is None) == (self.customers is None):
            raise ValueError("give either from (a date column) or customers (a customer column)")
        if self.customers and self.through:
            raise ValueError("through goes with from, not with customers")
        if self.through_when and not self.through:
            raise ValueError("through_when needs through")
        return self


class SourceContract(_Strict):
    name: str
    description: str
    required: bool = Field(
        default=False,
        description="true: a refresh without any accepted row of this source stops at its "
        "ingest, naming it. false: the refresh runs without it; marts that need its rows "
        "(meta.empty_if_no_rows_in of their suite) are published empty.",
    )
    path: str | None = Field(default=None, description="Folder under data/raw (default: name).")
    files: str | None = Field(
        default=None,
        description="Glob pattern of the files relative to data/raw, e.g. 'trade_fairs/*.csv' "
        "(default: every .csv/.parquet file in the folder `path`).",
    )
    format: FileFormat | None = None
    cost: CostMapping | None = None
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    currency: CurrencyRule | None = None
    amounts: tuple[str, ...] = Field(
        default=(),
        description="Money amounts the warehouse computes from a row and converts into the "
        "reporting currency, each a sum of columns or products of columns, e.g. "
        "'quantity * unit_price'; a row whose amount could overflow downstream is quarantined "
        "(docs/data-contract.md). Default: the cost section's amount.",
    )
    plausibility: tuple[str, ...] = Field(
        default=(),
        description="Values watched by the plausibility guard, each a column or a sum of "
        "products of columns, e.g. 'quantity * unit_price': a row far above the source's "
        "history is quarantined (docs/data-contract.md).",
    )
    affects_months: AffectsMonths | Literal["none", "all"] | None = Field(
        default=None,
        description="Months of the marts a row can change (incremental refresh). Default: the "
        "month of cost.date for a cost source, otherwise all (any change rebuilds every month).",
    )

    @field_validator("description")
    @classmethod
    def _no_braces(cls, v: str) -> str:
        return _plain_text(v)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        if not IDENTIFIER.match(v):
            raise ValueError(f"source name {v!r} is not a plain identifier")
        return v

    @field_validator("path")
    @classmethod
    def _inside_raw(cls, v: str | None) -> str | None:
        if v is not None and (v.startswith("/") or ".." in Path(v).parts):
            raise ValueError(f"path {v!r} must be a folder inside data/raw")
        if v is not None:
            for part in Path(v).parts:
                if not IDENTIFIER.match(part):
                    raise ValueError(f"path {v!r}: folder {part!r} is not a plain identifier")
        return v

    @field_validator("amounts", "plausibility")
    @classmethod
    def _amounts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_sum_of_products(a) for a in v)

    @field_validator("files")
    @classmethod
    def _pattern_inside_raw(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if v.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", v) or "\\" in v:
            raise ValueError(f"file pattern {v!r} must be relative to data/raw (no absolute path)")
        parts = v.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"file pattern {v!r} must stay inside data/raw (no '..', '.', '//')")
        if "**" in v or any(not GLOB_PART.match(p) for p in parts):
            raise ValueError(
                f"file pattern {v!r}: use plain folder and file names with * and ? only"
            )
        if len(parts) < 2:
            raise ValueError(f"file pattern {v!r} must name a folder, e.g. 'trade_fairs/*.csv'")
        return v

    @model_validator(mode="after")
    def _columns_exist(self) -> SourceContract:
        names = {c.name for c in self.columns}
        used = list(self.unique_key) + [r.column for r in self.references]
        if self.currency:
            used += [self.currency.column, self.currency.date_column]
        for col in used:
            if col and col not in names:
                raise ValueError(f"column {col!r} is used in a rule but not declared in columns")
        for key in ("amounts", "plausibility"):
            for amount in getattr(self, key):
                for col in (c for term in terms_of(amount) for c in term):
                    if col not in names or not self.column(col).is_numeric:
                        raise ValueError(f"{key}: {col!r} is not a declared numeric column")
        if self.cost:
            self._check_cost_columns(self.cost)
        if isinstance(self.affects_months, AffectsMonths):
            self._check_affects_columns(self.affects_months)
        return self

    def _check_affects_columns(self, rule: AffectsMonths) -> None:
        types = {c.name: c.type for c in self.columns}
        for key, col in (("from", rule.from_), ("through", rule.through)):
            if col is None or (key == "through" and col == "latest"):
                continue
            if types.get(col) != "date":
                raise ValueError(f"affects_months.{key}: {col!r} is not a declared date column")
        if rule.through_when and rule.through_when.column not in types:
            raise ValueError(
                f"affects_months.through_when.column: {rule.through_when.column!r} is not declared"
            )
        if rule.customers and rule.customers not in types:
            raise ValueError(f"affects_months.customers: column {rule.customers!r} is not declared")

    def _check_cost_columns(self, cost: CostMapping) -> None:
        cols = {c.name: c for c in self.columns}
        for key, col in cost.used_columns().items():
            if col not in cols:
                raise ValueError(f"cost.{key}: column {col!r} is not declared in columns")
        numeric = [k for k in cost.used_columns() if k.startswith(("amount[", "allocation."))]
        for key in numeric:
            col = cols[cost.used_columns()[key]]
            if not col.is_numeric:
                raise ValueError(f"cost.{key}: column {col.name!r} is not numeric ({col.type})")
        if cols[cost.date].type != "date":
            raise ValueError(f"cost.date: column {cost.date!r} is not a date column")
        if cols[cost.currency].type != "currency":
            raise ValueError(f"cost.currency: column {cost.currency!r} is not a currency column")
        for key in ("customer", "account", "date", "currency"):
            col = getattr(cost, key)
            if col and not cols[col].required:
                raise ValueError(f"cost.{key}: column {col!r} must be declared required: true")
        if cost.source_id is None and len(self.unique_key) != 1:
            raise ValueError("cost.source_id: missing mapping (the unique key has several columns)")
        cat = cost.category
        if (
            isinstance(cat, CategoryRule)
            and cat.map is None
            and cols[cat.column].type != "cost_category"
        ):
            raise ValueError(
                f"cost.category.column: column {cat.column!r} must have type cost_category, "
                "or give a map of its values onto categories"
            )
        if self.currency is None or self.currency.column != cost.currency:
            raise ValueError(
                "currency: declare the exchange-rate rule {column: "
                + cost.currency
                + ", date_column: "
                + cost.date
                + "} for a cost source"
            )
        if cost.customer and not any(
            r.column == cost.customer and r.source == "customers" for r in self.references
        ):
            raise ValueError(
                f"references: a cost source must check its customer column: add "
                f"{{column: {cost.customer}, source: customers}}"
            )

    @property
    def months_rule(self) -> AffectsMonths | Literal["none", "all"]:
        """affects_months, with the default filled in."""
        if self.affects_months is not None:
            return self.affects_months
        if self.cost is not None:
            return AffectsMonths(from_=self.cost.date)
        return "all"

    @property
    def money_amounts(self) -> tuple[str, ...]:
        """`amounts`, or the cost section's amount."""
        if self.amounts or self.cost is None or self.cost.amount is None:
            return self.amounts
        return (self.cost.amount,)

    @property
    def source_id_column(self) -> str:
        assert self.cost is not None
        return self.cost.source_id or self.unique_key[0]

    @property
    def file_type(self) -> str | None:
        return self.format.type if self.format else None

    @property
    def folder(self) -> str:
        return self.path or self.name

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Sources whose accepted rows this source's rules look up."""
        deps = [r.source for r in self.references]
        if self.currency and self.name != EXCHANGE_RATES:
            deps.append(EXCHANGE_RATES)
        return tuple(dict.fromkeys(deps))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def load_contract(path: Path) -> SourceContract:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return SourceContract.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{where_key(path, err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in e.errors()
        )
        raise ContractError(problems) from None
    except yaml.YAMLError as e:
        raise ContractError(describe_yaml_error(path, e)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ContractError(f"{path}: cannot be read: {e}") from None


@cache
def load_contracts(sources_dir: Path = SOURCES_DIR) -> dict[str, SourceContract]:
    """All declarations, in dependency order (referenced sources first)."""
    contracts = {c.name: c for c in map(load_contract, sorted(sources_dir.glob("*.yml")))}
    for c in contracts.values():
        for ref in c.depends_on:
            if ref not in contracts:
                raise ContractError(
                    f"{sources_dir / (c.name + '.yml')}: references: unknown source {ref!r}"
                )
        for ref in c.references:
            known = {col.name for col in contracts[ref.source].columns}
            for col in ref.target_columns:
                if col not in known:
                    raise ContractError(
                        f"{sources_dir / (c.name + '.yml')}: references: source {ref.source!r} "
                        f"has no column {col!r}"
                    )
    ordered: dict[str, SourceContract] = {}

    def visit(c: SourceContract) -> None:
        for dep in c.depends_on:
            visit(contracts[dep])
        ordered.setdefault(c.name, c)

    for c in contracts.values():
        visit(c)
    return ordered


SourceFormat = Literal["csv", "parquet"]
