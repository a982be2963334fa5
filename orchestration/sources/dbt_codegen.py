"""dbt files generated from the raw data contracts in sources/*.yml, in one explicit step.

- `models/staging/erp/_erp__sources.yml`: the dbt source of every declared raw source;
- per declaration with a `cost:` section, the staging relation `stg_cost__<name>` (canonical
  cost-line or driver-volume rows) in `models/staging/cost_sources/`, with its schema YAML;
- the macro `kam_cost_sources()` (`macros/kam_cost_sources.sql`) that int_direct_cost_lines and
  int_activity_drivers loop over.

All are committed. `kam dbt-sources` (and `kam refresh`, before it loads the pipeline) writes
them; a unit test fails when the committed files drift from the declarations. Identifiers from a
declaration are validated as plain identifiers and quoted anyway; text from a declaration
reaches SQL only as a quoted literal with Jinja's `{` escaped.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from orchestration.duck import quote_ident, quote_literal
from orchestration.settings import DBT_PROJECT_DIR, SOURCES_DIR
from orchestration.sources.contracts import (
    PLACEHOLDER,
    CategoryRule,
    DriverAllocation,
    SourceContract,
    load_contracts,
)
from orchestration.state import write_text_atomic

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "erp" / "_erp__sources.yml"
MODELS_DIR = DBT_PROJECT_DIR / "models" / "staging" / "cost_sources"
MACRO_FILE = DBT_PROJECT_DIR / "macros" / "kam_cost_sources.sql"
ERP_HEADER = (
    "# Generated from the raw data contracts in sources/*.yml by `kam dbt-sources`; do not edit.\n"
)
LOCATION = "{{ env_var('KAM_INGESTED_DIR', '../data/warehouse/ingested') }}/{name}/*.parquet"
HEADER = "-- Generated from sources/{name}.yml (cost section) by kam; do not edit.\n"


def render_dbt_sources(sources_dir: Path = SOURCES_DIR) -> str:
    tables = []
    for contract in load_contracts(sources_dir).values():
        columns = [
            {
                "name": c.name,
                "description": c.description + (" Required." if c.required else ""),
                "data_type": c.duckdb_type.lower(),
            }
            for c in contract.columns
        ]
        columns += [
            {"name": "_source_file", "description": "Raw file the row came from (drill-down)."},
            {
                "name": "_source_row",
                "description": "Data row number in that file (1 = first row after the header).",
            },
        ]
        tables.append(
            {
                "name": contract.name,
                "description": " ".join(contract.description.split())
                + f" Contract: sources/{contract.name}.yml.",
                "columns": columns,
            }
        )
    doc = {
        "version": 2,
        "sources": [
            {
                "name": "erp",
                "description": "Raw ERP exports after ingest: typed, validated, de-duplicated rows "
                "(rejected rows are in the quarantine). Written by the Dagster ingest assets as "
                "Parquet.",
                "meta": {"external_location": LOCATION},
                "tables": tables,
            }
        ],
    }
    return ERP_HEADER + yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)


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
    """Every generated dbt file (path in the project under DBT_PROJECT_DIR -> content)."""
    contracts = cost_contracts(sources_dir)
    files = {SOURCES_YML: render_dbt_sources(sources_dir), MACRO_FILE: render_macro(contracts)}
    files[MODELS_DIR / "_cost_sources__models.yml"] = render_models_yml(contracts)
    for c in contracts:
        files[MODELS_DIR / f"{staging_model(c.name)}.sql"] = render_model(c)
    return files


def write_generated(
    sources_dir: Path = SOURCES_DIR, project_dir: Path = DBT_PROJECT_DIR
) -> list[Path]:
    """Write every generated dbt file; touch only those whose content changed (so that dbt
    re-parses only when a declaration changed). Remove models of sources no longer declared.
    Returns the files written or removed."""
    files = {
        project_dir / p.relative_to(DBT_PROJECT_DIR): t
        for p, t in generated_files(sources_dir).items()
    }
    changed = []
    for path, text in files.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        write_text_atomic(path, text)
        changed.append(path)
    models_dir = project_dir / MODELS_DIR.relative_to(DBT_PROJECT_DIR)
    for stale in models_dir.glob("*"):
        if stale.is_file() and stale not in files and not stale.name.startswith("."):
            stale.unlink()
            changed.append(stale)
    return changed
