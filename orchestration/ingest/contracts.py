"""Raw data contracts: one YAML declaration per source in `sources/`, validated by pydantic.

A declaration names the columns a company must deliver, their types and the row rules. The
ingest code is generic: it reads nothing about a source that is not in its declaration.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestration.settings import DBT_PROJECT_DIR, SOURCES_DIR

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
DECIMAL_TYPE = re.compile(r"^decimal\((\d{1,2}),(\d{1,2})\)$")
SIMPLE_TYPES = {"text", "integer", "date", "currency", "cost_category"}
EXCHANGE_RATES = "exchange_rates"


class ContractError(ValueError):
    """A declaration file is invalid; the message names the file and the key."""


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


class SourceContract(_Strict):
    name: str
    description: str
    path: str | None = Field(default=None, description="Folder under data/raw (default: name).")
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    currency: CurrencyRule | None = None

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
        return self

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
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors()
        )
        raise ContractError(f"{path}: {problems}") from None
    except yaml.YAMLError as e:
        raise ContractError(f"{path}: not valid YAML: {e}") from None


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


@cache
def cost_categories() -> tuple[str, ...]:
    """The relationship-cost taxonomy, kept once as a dbt seed."""
    with (DBT_PROJECT_DIR / "seeds" / "cost_categories.csv").open(encoding="utf-8") as f:
        return tuple(row["cost_category"] for row in csv.DictReader(f))


SourceFormat = Literal["csv", "parquet"]
