"""What the mart suites take from the declarations: the category list by reference, and the
row count of a mart that needs the rows of an optional source."""

import json

import pytest

from orchestration.settings import EXPECTATIONS_DIR
from orchestration.sources.categories import cost_categories
from orchestration.sources.contracts import load_contracts
from orchestration.sources.suite_refs import (
    SuiteRefError,
    allow_empty,
    marts_empty_without,
    resolve_refs,
    suite_problems,
)
from orchestration.validate.gx import SuiteError, load_suite_dict

ROW_COUNT = {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}
IN_SET = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "c"}}


def test_the_category_value_sets_refer_to_the_one_list():
    for table in ("cost_to_serve", "cost_budget_vs_actual"):
        raw = json.loads((EXPECTATIONS_DIR / f"{table}.json").read_text())
        resolved = load_suite_dict(table)
        for before, after in zip(raw["expectations"], resolved["expectations"], strict=True):
            if (
                before["kwargs"].get("column") == "cost_category"
                and "value_set" in before["kwargs"]
            ):
                assert before["kwargs"]["value_set"] == {"$ref": "cost_categories"}
                assert tuple(after["kwargs"]["value_set"]) == cost_categories()
    for path in EXPECTATIONS_DIR.glob("*.json"):  # no suite spells the list out
        assert "account_development" not in path.read_text(), path


def test_an_unknown_reference_is_refused():
    assert resolve_refs([{"a": {"$ref": "cost_categories"}}]) == [{"a": list(cost_categories())}]
    with pytest.raises(SuiteRefError, match=r'unknown reference \{"\$ref": "colours"\}'):
        resolve_refs({"value_set": {"$ref": "colours"}})
    with pytest.raises(SuiteRefError, match="unknown reference"):
        resolve_refs({"$ref": "cost_categories", "extra": 1})


def test_a_bad_reference_fails_the_suite_when_it_is_loaded(tmp_path, monkeypatch):
    (tmp_path / "x.json").write_text(json.dumps({"name": "x", "expectations": [{"$ref": "y"}]}))
    monkeypatch.setattr("orchestration.validate.gx.EXPECTATIONS_DIR", tmp_path)
    with pytest.raises(SuiteError, match=r"x\.json: unknown reference"):
        load_suite_dict("x")


def test_the_row_count_asks_for_0_rows_exactly_when_a_needed_source_is_empty():
    spec = {"name": "m", "meta": {"empty_if_no_rows_in": ["cost_budgets"]}}
    spec["expectations"] = [ROW_COUNT, IN_SET]
    assert allow_empty(spec, set()) == (spec, None)
    assert allow_empty(spec, {"deductions"}) == (spec, None)
    relaxed, why = allow_empty(spec, {"cost_budgets", "deductions"})
    assert why == "empty as expected: cost_budgets has no rows"
    assert relaxed["expectations"][0]["kwargs"] == {"min_value": 0, "max_value": 0}
    assert relaxed["expectations"][0]["meta"] == {"empty_because": "cost_budgets has no rows"}
    assert relaxed["expectations"][1] == IN_SET and spec["expectations"][0] == ROW_COUNT
    unmarked = {"name": "m", "expectations": [ROW_COUNT]}
    assert allow_empty(unmarked, {"cost_budgets"}) == (unmarked, None)


def test_budget_vs_actual_is_the_mart_that_needs_budgets():
    assert marts_empty_without("cost_budgets") == ["cost_budget_vs_actual"]
    assert marts_empty_without("invoice_lines") == []


def test_the_shipped_suites_agree_with_the_declarations():
    assert suite_problems(load_contracts()) == []


def test_a_suite_naming_an_unknown_or_a_required_source_is_refused(tmp_path):
    def suite(name, meta, expectations=()):
        spec = {"name": name, "meta": meta, "expectations": list(expectations)}
        (tmp_path / f"{name}.json").write_text(json.dumps(spec))

    suite("a", {"empty_if_no_rows_in": ["budgets"]})
    suite("b", {"empty_if_no_rows_in": ["invoice_lines"]})
    suite("c", {"empty_if_no_rows_in": "cost_budgets"})
    suite("d", {}, [{"type": "x", "kwargs": {"value_set": {"$ref": "categories"}}}])
    (tmp_path / "e.json").write_text("{")
    problems = suite_problems(load_contracts(), tmp_path)
    assert [p.split(":")[0] for p in problems] == [f"expectations/{n}.json" for n in "abcde"]
    assert "unknown source 'budgets'" in problems[0]
    assert "source 'invoice_lines' is required" in problems[1]
    assert "must be a list of source names" in problems[2]
    assert 'unknown reference {"$ref": "categories"}' in problems[3]
