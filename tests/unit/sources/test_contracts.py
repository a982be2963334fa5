"""Raw data contracts (sources/*.yml), the dbt sources generated from them, and the GX suites."""

import pytest
import yaml

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.sources.contracts import (
    ContractError,
    load_contract,
    load_contracts,
)
from orchestration.sources.dbt_codegen import (
    MODELS_DIR,
    SOURCES_YML,
    generated_files,
    render_dbt_sources,
    write_generated,
)
from orchestration.validate.gx import suite_tables


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


def test_every_committed_generated_dbt_file_matches_the_declarations():
    files = generated_files()
    assert SOURCES_YML in files and len(files) >= 3
    for path, text in files.items():
        assert path.exists() and path.read_text(encoding="utf-8") == text, (
            f"run `kam dbt-sources`: {path} differs from what sources/*.yml generate"
        )
    generated_models = {p for p in files if p.parent == MODELS_DIR}
    assert set(MODELS_DIR.glob("*")) == generated_models, "a stale generated model is committed"


def test_generation_writes_only_what_changed(tmp_path):
    project = tmp_path / "dbt_project"
    written = write_generated(project_dir=project)
    assert {p.relative_to(project) for p in written} == {
        p.relative_to(DBT_PROJECT_DIR) for p in generated_files()
    }
    assert write_generated(project_dir=project) == []
    stale = project / MODELS_DIR.relative_to(DBT_PROJECT_DIR) / "stg_cost__gone.sql"
    stale.write_text("select 1")
    assert write_generated(project_dir=project) == [stale] and not stale.exists()


def test_every_mart_has_a_gx_suite():
    marts = sorted(p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").glob("*.sql"))
    assert marts and set(marts) <= set(suite_tables())


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
        ({"amounts": ["hours * employee"]}, "amounts: 'employee' is not a declared numeric column"),
        ({"amounts": ["hours / 2"]}, "is not a column or a product of columns"),
        ({"plausibility": ["purpose"]}, "plausibility: 'purpose' is not a declared numeric column"),
        (
            {
                "columns": [
                    {"name": "a", "type": "text", "earliest": "1900-01-01", "description": "x"}
                ]
            },
            "earliest: only for date columns",
        ),
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


def test_every_source_declares_whether_it_is_required():
    for path in sorted((DBT_PROJECT_DIR.parent / "sources").glob("*.yml")):
        assert "required" in yaml.safe_load(path.read_text()), f"{path}: declare required:"
    required = {n for n, c in load_contracts().items() if c.required}
    assert required == {"customers", "invoice_lines", "exchange_rates"}


def test_the_amounts_of_a_source_default_to_its_cost_amount():
    contracts = load_contracts()
    assert contracts["invoice_lines"].money_amounts == (
        "quantity * unit_price",
        "quantity * standard_cost_per_unit",
    )
    assert contracts["visit_costs"].money_amounts == (
        "hours * hourly_rate + travel_amount + expense_amount",
    )
    assert contracts["shipments"].money_amounts == ()  # driver-based: priced by the catalogue
