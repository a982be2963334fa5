"""Render the dbt source definitions (`_erp__sources.yml`) from the raw data contracts.

The contracts are the single source of truth; `kam dbt-sources` rewrites the YAML and a unit
test fails when the two drift apart.
"""

from __future__ import annotations

import yaml

from orchestration.ingest.contracts import load_contracts
from orchestration.settings import DBT_PROJECT_DIR

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "erp" / "_erp__sources.yml"
HEADER = (
    "# Generated from the raw data contracts in sources/*.yml by `kam dbt-sources`; do not edit.\n"
)
LOCATION = "{{ env_var('KAM_INGESTED_DIR', '../data/warehouse/ingested') }}/{name}/*.parquet"


def render_dbt_sources() -> str:
    tables = []
    for contract in load_contracts().values():
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
    return HEADER + yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)


def write_dbt_sources() -> None:
    SOURCES_YML.write_text(render_dbt_sources(), encoding="utf-8")
