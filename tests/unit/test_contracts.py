"""Raw data contracts (sources/*.yml), the dbt sources generated from them, and the GX suites."""

import csv
import json

import pytest
import yaml

from orchestration.checks.gx_suites import suite_tables
from orchestration.ingest.contracts import (
    ContractError,
    cost_categories,
    load_contract,
    load_contracts,
)
from orchestration.ingest.dbt_sources import SOURCES_YML, render_dbt_sources
from orchestration.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR


def test_core_contracts_load_in_dependency_order():
    names = list(load_contracts())
    assert set(names) == {
        "exchange_rates",
        "customers",
        "invoice_lines",
        "deductions",
        "service_logs",
        "visit_costs",
        "quotations",
        "shipments",
        "marketing_bookings",
        "cost_budgets",
        "account_assessments",
    }
    assert names.index("exchange_rates") < names.index("customers") < names.index("invoice_lines")
    assert names.index("customers") < names.index("account_assessments")


def test_a_reference_to_columns_the_source_does_not_have_names_the_file(tmp_path):
    for name in ("exchange_rates", "customers", "account_assessments"):
        text = (DBT_PROJECT_DIR.parent / "sources" / f"{name}.yml").read_text()
        (tmp_path / f"{name}.yml").write_text(text.replace("[customer_group_id,", "[group_id,"))
    with pytest.raises(
        ContractError,
        match=r"account_assessments\.yml: references: source 'customers' has no column 'group_id'",
    ):
        load_contracts(tmp_path)


def test_dbt_sources_yml_is_generated_from_the_contracts():
    assert SOURCES_YML.read_text(encoding="utf-8") == render_dbt_sources(), (
        "run `kam dbt-sources` to regenerate dbt_project/models/staging/erp/_erp__sources.yml"
    )


def test_every_mart_has_a_gx_suite():
    marts = sorted(p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").glob("*.sql"))
    assert marts and set(marts) <= set(suite_tables())


def test_cost_category_suite_matches_the_seed():
    suite = json.loads((EXPECTATIONS_DIR / "cost_to_serve.json").read_text())
    [in_set] = [
        e for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_in_set"
    ]
    assert tuple(in_set["kwargs"]["value_set"]) == cost_categories()
    with (DBT_PROJECT_DIR / "seeds" / "cost_categories.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 14


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"path": "../../etc"}, "must be a folder inside data/raw"),
        (
            {"columns": [{"name": "a; drop table x", "type": "text", "description": "x"}]},
            "not a plain identifier",
        ),
        ({"columns": [{"name": "a", "type": "float", "description": "x"}]}, "unknown type 'float'"),
        ({"unique_key": ["nope"]}, "column 'nope' is used in a rule but not declared"),
    ],
)
def test_invalid_contract_names_file_and_key(tmp_path, change, message):
    spec = yaml.safe_load((DBT_PROJECT_DIR.parent / "sources" / "visit_costs.yml").read_text())
    spec.update(change)
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ContractError, match=str(path)) as err:
        load_contract(path)
    assert message in str(err.value)
