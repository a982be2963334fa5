"""Cost-source declarations: every invalid declaration is refused before any run, naming the
file and the key; identifiers are quoted and text cannot reach SQL or Jinja unescaped; files
outside data/raw are never read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from orchestration.costing.declarations import validate_sources
from orchestration.ingest.readers import IngestError, discover_source
from orchestration.settings import ACTIVITY_RATES_FILE, SOURCES_DIR
from orchestration.sources.categories import CATEGORIES_FILE
from orchestration.sources.contracts import ContractError, load_contract
from orchestration.sources.dbt_codegen import detail_sql, render_model
from orchestration.sources.gx_codegen import gx_suite
from orchestration.sources.template import new_source_template

BASE = yaml.safe_load(new_source_template("trade_fairs"))


def write(tmp_path: Path, doc: dict, name: str = "trade_fairs") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def with_cost(**changes) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    for k, v in changes.items():
        if v is None:
            doc["cost"].pop(k)
        else:
            doc["cost"][k] = v
    return doc


def refused(tmp_path: Path, doc: dict, match: str) -> None:
    path = write(tmp_path, doc)
    with pytest.raises(ContractError, match=match) as e:
        load_contract(path)
    assert str(path) in str(e.value)


def test_the_template_is_a_valid_declaration(tmp_path):
    contract = load_contract(write(tmp_path, BASE))
    assert contract.cost is not None and contract.cost.category == "sales_promotion"


def test_the_shipped_declarations_are_valid():
    assert validate_sources(ACTIVITY_RATES_FILE) == []


def test_unknown_key_is_refused(tmp_path):
    refused(tmp_path, with_cost(allocaton="direct"), r"cost\.allocaton: Extra inputs")
    doc = yaml.safe_load(yaml.safe_dump(BASE)) | {"colour": "red"}
    refused(tmp_path, doc, r"colour: Extra inputs")


@pytest.mark.parametrize(
    ("missing", "match"),
    [
        ("date", r"cost\.date: Field required"),
        ("currency", r"cost\.currency: Field required"),
        ("amount", r"amount: missing mapping"),
        ("category", r"category: missing mapping"),
        ("customer", r"exactly one of customer .* or account"),
    ],
)
def test_missing_mapping_of_a_required_field(tmp_path, missing, match):
    refused(tmp_path, with_cost(**{missing: None}), match)


def test_mapping_onto_an_undeclared_or_wrong_column(tmp_path):
    refused(tmp_path, with_cost(date="fair_day"), r"cost\.date: column 'fair_day' is not declared")
    refused(tmp_path, with_cost(amount="customer_id"), r"cost\.amount\[0\].* not numeric")


def test_unknown_category_is_refused(tmp_path):
    refused(tmp_path, with_cost(category="gifts"), r"cost\.category.*unknown category 'gifts'")
    mapped = with_cost(category={"column": "currency", "map": {"CHF": "gift_wrapping"}})
    refused(tmp_path, mapped, r"cost\.category.*unknown category 'gift_wrapping'")


def test_unknown_activity_is_refused(tmp_path):
    doc = with_cost(
        amount=None,
        category=None,
        allocation={"activity": "juggling", "driver": "balls", "quantity": "amount"},
    )
    write(tmp_path, doc)
    for core in ("customers", "exchange_rates"):
        (tmp_path / f"{core}.yml").write_text((SOURCES_DIR / f"{core}.yml").read_text())
    problems = validate_sources(ACTIVITY_RATES_FILE, tmp_path, suites_dir=tmp_path)
    assert problems == [
        "sources/trade_fairs.yml: cost.allocation.activity: unknown activity 'juggling' (not in "
        "the activity catalogue; add rows for it with driver balls)"
    ]


@pytest.mark.parametrize(
    "pattern",
    [
        "/etc/*.csv",
        "../secrets/*.csv",
        "trade_fairs/../../x.csv",
        "~/x.csv",
        "C:/x/*.csv",
        "trade_fairs\\..\\x.csv",
        "**/*.csv",
        "x.csv",
        "trade_fairs//*.csv",
    ],
)
def test_file_pattern_outside_data_raw_is_refused(tmp_path, pattern):
    doc = yaml.safe_load(yaml.safe_dump(BASE)) | {"files": pattern}
    refused(tmp_path, doc, r"files: .*file pattern")


def test_path_traversal_through_the_folder_is_refused(tmp_path):
    doc = yaml.safe_load(yaml.safe_dump(BASE)) | {"path": "../../etc"}
    refused(tmp_path, doc, r"path: .*inside data/raw")


def test_a_symlink_out_of_data_raw_is_never_read(tmp_path):
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    (raw / "trade_fairs").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.csv").write_text("a;b\n1;2\n")
    os.symlink(outside / "secret.csv", raw / "trade_fairs" / "secret.csv")
    with pytest.raises(IngestError, match="resolves outside"):
        discover_source(raw, "trade_fairs", "trade_fairs/*.csv", None)


@pytest.mark.parametrize(
    "evil",
    ['amount"; DROP TABLE x; --', "amount) FROM read_csv('/etc/passwd') --", "Amount", "a b"],
)
def test_sql_injection_through_column_names_is_refused(tmp_path, evil):
    refused(tmp_path, with_cost(amount=evil), r"cost\.amount: .*not a column")
    refused(tmp_path, with_cost(date=evil), r"cost\.date: .*not a plain identifier")
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    doc["columns"][0]["name"] = evil
    refused(tmp_path, doc, r"columns\.0\.name: .*not a plain identifier")
    refused(tmp_path, with_cost(detail="x {" + evil + "}"), r"cost\.detail")


def test_jinja_in_text_is_refused_or_escaped(tmp_path):
    refused(
        tmp_path, with_cost(owner="{{ run_query('drop') }}"), r"cost\.owner: .*must not contain \{"
    )
    # literal text of the detail template reaches SQL quoted, with { escaped (never Jinja)
    sql = detail_sql("it's {% raw %} [- {currency}]")
    assert "{%" not in sql and "it''s" in sql
    mapped = with_cost(category={"column": "currency", "map": {"{{x}}'": "training"}})
    contract = load_contract(write(tmp_path, mapped))
    model = render_model(contract)
    assert "{{x}}" not in model
    assert "chr(123)" in model and "}}'''" in model


def test_generated_model_quotes_every_identifier(tmp_path):
    model = render_model(load_contract(write(tmp_path, BASE)))
    assert 'cast("booking_id" as varchar) as source_id' in model
    assert 'round("amount", 2)' in model
    assert '{{ source("erp", "trade_fairs") }}' in model


def test_gx_suite_is_derived_from_the_rules(tmp_path):
    suite = gx_suite(load_contract(write(tmp_path, BASE)))
    kinds = {(e["type"], e["kwargs"].get("column")) for e in suite["expectations"]}
    assert ("expect_column_values_to_not_be_null", "customer_id") in kinds
    assert ("expect_column_values_to_be_between", "amount") in kinds
    assert ("expect_column_values_to_be_unique", "booking_id") in kinds


def test_a_category_list_the_pipeline_cannot_run_is_refused_first(tmp_path):
    seed = tmp_path / "cost_categories.csv"
    seed.write_text(CATEGORIES_FILE.read_text() + "trade_fairs,,15\n")
    assert validate_sources(ACTIVITY_RATES_FILE, categories_file=seed) == [
        f"invalid cost categories: {seed} row 15: category 'trade_fairs' has no label"
    ]


def test_a_suite_naming_an_unknown_source_is_refused(tmp_path):
    (tmp_path / "m.json").write_text('{"name": "m", "meta": {"empty_if_no_rows_in": ["x"]}}')
    assert validate_sources(ACTIVITY_RATES_FILE, suites_dir=tmp_path) == [
        "expectations/m.json: meta.empty_if_no_rows_in: unknown source 'x'"
    ]
