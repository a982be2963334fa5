"""Required and optional sources: a required source without rows stops its ingest naming it
(before any change when it has no file); an optional one without rows gives the line the run
reports, with why and which marts are then empty."""

import pytest

from orchestration.ingest.load import ingest_source
from orchestration.ingest.presence import MissingSourceError, check_rows, require_files
from orchestration.sources.contracts import load_contracts
from tests.conftest import CUSTOMERS_HEADER

BUDGETS_HEADER = "account_id;year;cost_category;budget_amount;currency\n"


def ingest(settings, name):
    return ingest_source(load_contracts()[name], settings)


def test_a_required_source_without_a_file_stops_before_its_ingest(settings, write_raw):
    write_raw("exchange_rates", "rates.csv", "rate_date;from_currency;to_currency;rate\n")
    customers = load_contracts()["customers"]
    with pytest.raises(MissingSourceError) as e:
        require_files(customers, settings)
    assert str(e.value).startswith(
        f"required source customers has no rows: no file matches {settings.raw_dir}/customers/* "
        "(sources/customers.yml declares required: true)"
    )
    assert not settings.accepted_dir("customers").exists()  # nothing ingested, nothing removed


def test_a_required_source_whose_rows_are_all_quarantined_stops(settings, base_sources, write_raw):
    ingest(settings, "exchange_rates")
    write_raw("customers", "customers.csv", CUSTOMERS_HEADER + "C1;;G1;;CH;CHF;;30;;\n")
    customers = load_contracts()["customers"]
    require_files(customers, settings)  # it has a file
    result = ingest(settings, "customers")
    with pytest.raises(MissingSourceError, match=r"no rows: all 1 rows quarantined \(1 missing"):
        check_rows(customers, result, settings, [])


def test_an_optional_source_absent_or_header_only_is_reported(settings, base_sources, write_raw):
    ingest(settings, "exchange_rates")
    ingest(settings, "customers")
    budgets = load_contracts()["cost_budgets"]
    require_files(budgets, settings)  # optional: no file is fine
    result = ingest(settings, "cost_budgets")
    assert check_rows(budgets, result, settings, ["cost_budget_vs_actual"]) == (
        f"cost_budgets had no rows (optional source; no file matches {settings.raw_dir}/"
        "cost_budgets/*): cost_budget_vs_actual is empty"
    )
    write_raw("cost_budgets", "budgets_2024.csv", BUDGETS_HEADER)
    result = ingest(settings, "cost_budgets")
    assert check_rows(budgets, result, settings, []) == (
        "cost_budgets had no rows (optional source; 1 file(s) without data rows)"
    )
    write_raw("cost_budgets", "budgets_2024.csv", BUDGETS_HEADER + "G1;2024;training;100,00;CHF\n")
    assert check_rows(budgets, ingest(settings, "cost_budgets"), settings, []) is None
