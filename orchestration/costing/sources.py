"""Cost sources by configuration: everything a `cost:` section of sources/<name>.yml derives.

From each declaration with a `cost:` section, with no code per source:
- the dbt staging relation `stg_cost__<name>` (canonical cost-line or driver-volume rows), written
  at parse time into the gitignored folder dbt_project/generated/ (with its schema YAML and the
  macro `kam_cost_sources()` that int_direct_cost_lines / int_activity_drivers loop over);
- its Great Expectations suite (from the declared column rules, see `gx_suite`);
- the checks against the activity catalogue (`catalogue_problems`).
Identifiers from a declaration are validated as plain identifiers and quoted anyway; text from a
declaration reaches SQL only as a quoted literal with Jinja's `{` escaped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from orchestration.duck import quote_ident, quote_literal
from orchestration.ingest.contracts import (
    PLACEHOLDER,
    CategoryRule,
    DriverAllocation,
    SourceContract,
    load_contracts,
)
from orchestration.settings import DBT_PROJECT_DIR, SOURCES_DIR

GENERATED_DIR = DBT_PROJECT_DIR / "generated"
MODELS_DIR = GENERATED_DIR / "models" / "staging" / "cost_sources"
MACROS_DIR = GENERATED_DIR / "macros"
HEADER = "-- Generated from sources/{name}.yml (cost section) by kam; do not edit.\n"


def staging_model(name: str) -> str:
    return f"stg_cost__{name}"


def cost_contracts(sources_dir: Path = SOURCES_DIR) -> list[SourceContract]:
    return [c for c in load_contracts(sources_dir).values() if c.cost is not None]


def lit(value: str) -> str:
    """A SQL string literal that Jinja leaves alone (`{` never reaches the template)."""
    return quote_literal(value).replace("{", "' || chr(123) || '")


def col(name: str) -> str:
    return quote_ident(name)


def _amount_sql(contract: SourceContract) -> str:
    cost = contract.cost
    assert cost is not None
    terms = []
    for factors in cost.amount_terms():
        product = " * ".join(
            col(f) if contract.column(f).required else f"coalesce({col(f)}, 0)" for f in factors
        )
        terms.append(f"round({product}, 2)")
    return f"cast({' + '.join(terms)} as decimal(18, 2))"


def _text(name: str) -> str:
    return f"cast({col(name)} as varchar)"


def detail_sql(template: str) -> str:
    """'ticket {id}[ - {text}]' -> SQL: a [...] part is left out when a value in it is NULL."""
    pieces: list[str] = []
    for i, part in enumerate(template.replace("]", "[").split("[")):
        optional = i % 2 == 1
        sql = []
        pos = 0
        for m in PLACEHOLDER.finditer(part):
            if m.start() > pos:
                sql.append(lit(part[pos : m.start()]))
            sql.append(_text(m.group(1)) if optional else f"coalesce({_text(m.group(1))}, '')")
            pos = m.end()
        if pos < len(part):
            sql.append(lit(part[pos:]))
        if sql:
            joined = " || ".join(sql)
            pieces.append(f"coalesce({joined}, '')" if optional else joined)
    return " || ".join(pieces) if pieces else "''"


def render_model(contract: SourceContract) -> str:
    cost = contract.cost
    assert cost is not None
    customer = _text(cost.customer) if cost.customer else "cast(null as varchar)"
    account = _text(cost.account) if cost.account else "cast(null as varchar)"
    detail = (
        detail_sql(cost.detail)
        if cost.detail
        else f"{lit(contract.name + ' ')} || " + _text(contract.source_id_column)
    )
    lines = [
        f"{lit(contract.name)} as source_name",
        f"{_text(contract.source_id_column)} as source_id",
        f"{customer} as customer_id",
        f"{account} as account_id",
        f"cast({col(cost.date)} as date) as cost_date",
    ]
    if isinstance(cost.allocation, DriverAllocation):
        alloc = cost.allocation
        lines += [
            f"{lit(alloc.activity)} as activity",
            f"{lit(alloc.driver)} as driver",
            f"cast(coalesce({col(alloc.quantity)}, 0) as decimal(24, 6)) as quantity",
        ]
    else:
        category = cost.category
        if isinstance(category, str):
            cat_sql = lit(category)
        elif isinstance(category, CategoryRule) and category.map:
            whens = " ".join(f"when {lit(k)} then {lit(v)}" for k, v in category.map.items())
            cat_sql = f"case {col(category.column)} {whens} end"
        else:
            assert isinstance(category, CategoryRule)
            cat_sql = _text(category.column)
        lines += [
            f"{cat_sql} as cost_category",
            f"{_text(cost.currency)} as currency",
            f"{_amount_sql(contract)} as amount_document_currency",
        ]
    lines += [
        f"{detail} as detail",
        "_source_file as source_file",
        "_source_row as source_row",
    ]
    body = ",\n    ".join(lines)
    return (
        HEADER.format(name=contract.name)
        + "{% raw %}\n"
        + f"select\n    {body}\n"
        + "{% endraw %}\n"
        + f'from {{{{ source("erp", "{contract.name}") }}}}\n'
    )


def _row_rules(model: str, not_null: list[str], relationships: list[dict]) -> dict:
    arguments: dict = {"not_null": not_null}
    if relationships:
        arguments["relationships"] = relationships
    return {"row_rules": {"name": f"row_rules_{model}", "arguments": arguments}}


def render_models_yml(contracts: list[SourceContract]) -> str:
    models = []
    for c in contracts:
        cost = c.cost
        assert cost is not None
        direct = cost.is_direct
        columns = [
            {"name": "source_name", "description": "The declared source."},
            {
                "name": "source_id",
                "description": f"Id of the row ({c.source_id_column}).",
                "data_tests": ["unique"],
            },
            {"name": "customer_id", "description": "Customer the cost is booked on."},
            {"name": "account_id", "description": "Key account, when the source names it."},
            {"name": "cost_date", "description": "Date of the cost."},
        ]
        # one row_rules test (one pass, one dbt node) holds the model's not-null and references
        not_null = ["source_id", "cost_date"]
        relationships = []
        if direct:
            columns += [
                {
                    "name": "cost_category",
                    "description": "Relationship-cost category.",
                },
                {"name": "currency", "description": "Document currency."},
                {
                    "name": "amount_document_currency",
                    "description": f"Amount: {cost.amount} (each term rounded to the cent).",
                },
            ]
            not_null += ["cost_category", "amount_document_currency"]
            relationships.append(
                {
                    "column": "cost_category",
                    "to": "ref('cost_categories')",
                    "field": "cost_category",
                }
            )
        else:
            assert isinstance(cost.allocation, DriverAllocation)
            columns += [
                {"name": "activity", "description": "Activity of the catalogue declared."},
                {"name": "driver", "description": "Driver priced by the catalogue."},
                {
                    "name": "quantity",
                    "description": f"Driver quantity ({cost.allocation.quantity}).",
                },
            ]
            not_null.append("quantity")
        columns += [
            {"name": "detail", "description": "Drill-down text."},
            {"name": "source_file", "description": "Raw file."},
            {"name": "source_row", "description": "Row in the raw file."},
        ]
        models.append(
            {
                "name": staging_model(c.name),
                "description": f"Cost lines of sources/{c.name}.yml (owner: {cost.owner}): "
                + " ".join(c.description.split()),
                "meta": {"kam_cost_source": c.name, "owner": cost.owner},
                "data_tests": [_row_rules(staging_model(c.name), not_null, relationships)],
                "columns": columns,
            }
        )
    doc = {"version": 2, "models": models}
    return "# Generated from sources/*.yml by kam; do not edit.\n" + yaml.safe_dump(
        doc, sort_keys=False, width=100
    )


def render_macro(contracts: list[SourceContract]) -> str:
    entries = [
        {
            "name": c.name,
            "model": staging_model(c.name),
            "allocation": "direct" if c.cost and c.cost.is_direct else "activity",
        }
        for c in contracts
    ]
    return (
        "{# Generated from sources/*.yml by kam; do not edit. #}\n"
        "{% macro kam_cost_sources() %}\n"
        f"    {{{{ return(fromjson({json.dumps(json.dumps(entries))})) }}}}\n"
        "{% endmacro %}\n"
    )


def generated_files(sources_dir: Path = SOURCES_DIR) -> dict[Path, str]:
    contracts = cost_contracts(sources_dir)
    files = {MACROS_DIR / "kam_cost_sources.sql": render_macro(contracts)}
    files[MODELS_DIR / "_cost_sources__models.yml"] = render_models_yml(contracts)
    for c in contracts:
        files[MODELS_DIR / f"{staging_model(c.name)}.sql"] = render_model(c)
    return files


def write_generated(sources_dir: Path = SOURCES_DIR) -> list[Path]:
    """Write the generated dbt files; touch only those whose content changed (so that dbt
    re-parses only when a declaration changed). Remove files of sources no longer declared."""
    from orchestration.ingest.dbt_sources import SOURCES_YML, render_dbt_sources

    files = generated_files(sources_dir)
    changed = []
    # The dbt source definitions (committed, see `kam dbt-sources`) follow the declarations too.
    if sources_dir == SOURCES_DIR and SOURCES_YML.read_text(encoding="utf-8") != (
        erp := render_dbt_sources()
    ):
        SOURCES_YML.write_text(erp, encoding="utf-8")
        changed.append(SOURCES_YML)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        changed.append(path)
    for folder in (MODELS_DIR, MACROS_DIR):
        for stale in folder.glob("*"):
            if stale.is_file() and stale not in files and not stale.name.startswith("."):
                stale.unlink()
                changed.append(stale)
    return changed


def catalogue_problems(rates, sources_dir: Path = SOURCES_DIR) -> list[str]:
    """Driver-based declarations whose activity the catalogue does not have (or has on another
    driver). `rates`: the validated catalogue rows (orchestration/costing/catalogue.py)."""
    drivers = {r.activity: r.driver for r in rates}
    problems = []
    for c in cost_contracts(sources_dir):
        alloc = c.cost.allocation if c.cost else None
        if not isinstance(alloc, DriverAllocation):
            continue
        where = f"sources/{c.name}.yml: cost.allocation.activity"
        if alloc.activity not in drivers:
            problems.append(
                f"{where}: unknown activity {alloc.activity!r} (not in the activity catalogue; "
                f"add rows for it with driver {alloc.driver})"
            )
        elif drivers[alloc.activity] != alloc.driver:
            problems.append(
                f"{where}: activity {alloc.activity!r} prices driver "
                f"{drivers[alloc.activity]!r} in the catalogue, not {alloc.driver!r}"
            )
    return problems


def validate_sources(activity_rates_file: Path, sources_dir: Path = SOURCES_DIR) -> list[str]:
    """Every problem of the declarations (schema, cross-source, catalogue); [] when all is well."""
    from orchestration.costing.catalogue import CatalogueError, load_catalogue
    from orchestration.ingest.contracts import ContractError

    problems: list[str] = []
    for path in sorted(sources_dir.glob("*.yml")):
        try:
            from orchestration.ingest.contracts import load_contract

            contract = load_contract(path)
            if contract.name != path.stem:
                problems.append(f"{path}: name: {contract.name!r} differs from the file name")
        except ContractError as e:
            problems.append(str(e))
    if problems:
        return problems
    try:
        load_contracts(sources_dir)
        rates = load_catalogue(activity_rates_file)
    except (ContractError, CatalogueError) as e:
        return [str(e)]
    return catalogue_problems(rates, sources_dir)


def gx_suite(contract: SourceContract) -> dict:
    """The GX suite of a declared source, from its column rules: required -> not null, min/max
    -> between, allowed -> in set, unique key -> unique, mapped category values -> in the map."""
    exps: list[dict] = []
    for c in contract.columns:
        if c.required:
            exps.append(
                {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": c.name}}
            )
        if c.min is not None or c.max is not None:
            exps.append(
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {
                        "column": c.name,
                        "min_value": c.min,
                        "max_value": c.max,
                        "strict_min": c.min_exclusive,
                    },
                }
            )
        if c.allowed:
            exps.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": c.name, "value_set": list(c.allowed)},
                }
            )
        if c.type == "cost_category":
            from orchestration.ingest.contracts import cost_categories

            exps.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": c.name, "value_set": list(cost_categories())},
                }
            )
    if len(contract.unique_key) == 1:
        exps.append(
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": contract.unique_key[0]},
            }
        )
    else:
        exps.append(
            {
                "type": "expect_compound_columns_to_be_unique",
                "kwargs": {"column_list": list(contract.unique_key)},
            }
        )
    cat = contract.cost.category if contract.cost else None
    if isinstance(cat, CategoryRule) and cat.map:
        exps.append(
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": cat.column, "value_set": list(cat.map)},
            }
        )
    return {
        "name": f"source_{contract.name}",
        "meta": {
            "generated_from": f"sources/{contract.name}.yml",
            # decided on one compact row of counts (orchestration/checks/reduction.py); a
            # failure shows offending rows by key, raw file and row
            "reduction": {
                "group_by": [],
                "sample_columns": [*contract.unique_key, "_source_file", "_source_row"],
            },
        },
        "expectations": exps,
    }


def source_status(settings) -> list[dict]:
    """Per declared source: kind, owner, last load (time of the accepted Parquet), counts."""
    from datetime import datetime

    import duckdb

    out = []
    for c in load_contracts().values():
        ledger = settings.state_dir / "ingest" / c.name / "ledger.json"
        row = {
            "source": c.name,
            "kind": (
                "cost, direct"
                if c.cost and c.cost.is_direct
                else "cost, driver-based"
                if c.cost
                else "core"
            ),
            "owner": c.cost.owner if c.cost else None,
            "last_load": None,
            "raw_rows": None,
            "accepted_rows": None,
            "quarantined_rows": None,
        }
        if ledger.exists():
            with duckdb.connect() as con:
                n_ok = con.execute(
                    f"SELECT count(*) FROM read_parquet({quote_literal(settings.accepted_glob(c.name))})"
                ).fetchone()[0]
                n_bad = (
                    con.execute(
                        "SELECT count(*) FROM read_parquet("
                        f"{quote_literal(settings.quarantine_glob(c.name))})"
                    ).fetchone()[0]
                    if any(settings.quarantine_dir_of(c.name).glob("*.parquet"))
                    else 0
                )
            row |= {
                "last_load": datetime.fromtimestamp(ledger.stat().st_mtime).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "raw_rows": n_ok + n_bad,
                "accepted_rows": n_ok,
                "quarantined_rows": n_bad,
            }
        out.append(row)
    return out


TEMPLATE = """\
# Declaration of the raw source {name}: drop its files into data/raw/{name}/ and run
# `kam sources validate`, then `kam refresh`. No code to write: the ingest asset, the dbt staging
# model stg_cost__{name}, its Great Expectations suite and its rows in cost_lines and
# cost_to_serve are derived from this file. See docs/cost-sources.md.
name: {name}
description: What the file holds, in one sentence (no curly braces).
# files: "{name}/*.csv"      # glob relative to data/raw (default: every .csv/.parquet in {name}/)
# format: {{type: csv, delimiter: ";"}}   # German ERP CSV (1.234,56; dd.mm.yyyy) or parquet
columns:                     # every column of the file; names are plain identifiers
  - {{name: booking_id, type: text, required: true, description: "Id of the row."}}
  - {{name: customer_id, type: text, required: true, description: "Customer (ERP sold-to)."}}
  - {{name: booking_date, type: date, required: true, description: "The cost lands in its month."}}
  - {{name: amount, type: "decimal(18,2)", required: true, min: 0, description: "Cost in currency."}}
  - {{name: currency, type: currency, required: true, description: "ISO currency code."}}
  # - {{name: kind, type: text, allowed: [a, b], description: "Rows with another value are quarantined."}}
unique_key: [booking_id]     # a second row with the same key is quarantined
references:
  - {{column: customer_id, source: customers}}   # unknown customers are quarantined
currency: {{column: currency, date_column: booking_date}}   # needs an exchange rate on that day
cost:
  owner: Team or person answering questions about the file
  customer: customer_id      # or  account: <column with the key-account id>
  date: booking_date
  currency: currency
  # source_id: booking_id    # default: the unique key
  category: sales_promotion  # one of the 14 ids in dbt_project/seeds/cost_categories.csv, or
  # category: {{column: kind, map: {{a: sales_promotion, b: presentations}}}}
  allocation: direct         # or {{activity: <catalogue activity>, driver: <its driver>, quantity: <column>}}
  amount: amount             # columns joined by * and +, e.g. hours * hourly_rate + expenses
  detail: "booking {{booking_id}}"   # drill-down text; [ - {{column}}] is left out when empty
# Incremental refresh: a changed row recomputes the month of cost.date (the default). Declare
# more when a row matters beyond its month, e.g. {{from: booking_date, through: settled_date}}.
# affects_months: {{from: booking_date}}
"""


def new_source_template(name: str) -> str:
    return TEMPLATE.format(name=name)
