"""The activity catalogue (config/activity_rates.csv): validation names file, row and problem."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from orchestration.costing.catalogue import DRIVERS, CatalogueError, load_catalogue
from orchestration.settings import ACTIVITY_RATES_FILE, Settings
from orchestration.sources.contracts import cost_categories

HEADER = "activity,cost_category,driver,rate,currency,valid_from,valid_to,description\n"
GOOD = (
    "order_line_entry,order_processing,order_lines,2.80,CHF,2020-01-01,2025-04-14,line\n"
    "order_line_entry,order_processing,order_lines,2.20,CHF,2025-04-15,,line (EDI)\n"
    "payment_terms_financing,financing,receivable_years_in_terms,0.045,,2020-01-01,,terms\n"
)


def catalogue(tmp_path: Path, rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "activity_rates.csv"
    path.write_text(header + rows, encoding="utf-8")
    return path


def problem(tmp_path: Path, rows: str, header: str = HEADER) -> str:
    path = catalogue(tmp_path, rows, header)
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    assert str(path) in str(err.value)
    return str(err.value)


def test_the_shipped_catalogue_is_valid_and_prices_every_driver():
    rates = load_catalogue(ACTIVITY_RATES_FILE)
    assert {r.driver for r in rates} == set(DRIVERS)
    assert {r.cost_category for r in rates} <= set(cost_categories())
    assert Settings.load().activity_rates_file == ACTIVITY_RATES_FILE


def test_a_rate_change_is_a_new_row_from_the_change_date(tmp_path):
    rates = load_catalogue(catalogue(tmp_path, GOOD))
    old, new, terms = rates
    assert (old.row, old.rate, old.valid_to) == (1, Decimal("2.80"), date(2025, 4, 14))
    assert (new.row, new.rate, new.valid_from, new.valid_to) == (
        2,
        Decimal("2.20"),
        date(2025, 4, 15),
        None,
    )
    assert terms.currency is None and terms.rate == Decimal("0.045")


def test_overlapping_validity_of_one_activity(tmp_path):
    rows = GOOD.replace("2025-04-15,,line (EDI)", "2025-01-01,,line (EDI)")
    assert (
        "row 2: validity 2025-01-01..open of activity 'order_line_entry' overlaps row 1 "
        "(2020-01-01..2025-04-14)" in problem(tmp_path, rows)
    )


def test_two_open_ended_versions_overlap(tmp_path):
    rows = (
        GOOD + "payment_terms_financing,financing,receivable_years_in_terms,0.05,,2024-01-01,,x\n"
    )
    assert (
        "row 4: validity 2024-01-01..open of activity 'payment_terms_financing' overlaps row 3"
        in (problem(tmp_path, rows))
    )


def test_negative_rate(tmp_path):
    assert "row 2: negative rate -2.20 (rates must be >= 0)" in problem(
        tmp_path, GOOD.replace("2.20", "-2.20")
    )


def test_a_rate_of_0_stops_pricing_an_activity_and_an_empty_rate_is_missing(tmp_path):
    rates = load_catalogue(catalogue(tmp_path, GOOD.replace("2.20", "0")))
    assert rates[1].rate == Decimal("0")
    assert "row 2: missing rate" in problem(tmp_path, GOOD.replace("2.20", ""))


def test_unknown_cost_category_and_driver(tmp_path):
    text = problem(
        tmp_path, GOOD.replace("order_processing,order_lines,2.20", "ordering,lines,2.20")
    )
    assert "row 2: unknown cost category 'ordering'" in text
    assert "row 2: unknown driver 'lines'" in text


def test_every_problem_is_listed_with_its_row(tmp_path):
    rows = (
        "quotation_work,quotation_preparation,quote_hours,abc,CHF,2024-01-01,,x\n"
        "freight,logistics,shipped_kg,0.12,,2024-01-01,,no currency\n"
        "freight2,logistics,shipped_kg,0.12,Euro,2024-13-01,,bad\n"
        "late,financing,receivable_years_late,9,CHF,2024-02-01,2024-01-01,percent\n"
        "Tender Work,tender_documents,tender_hours,1.1234567,CHF,2024-01-01,,x\n"
        ",,,,,,,\n"
        "order_handling,order_processing,orders,12.50,CHF,,,x\n"
    )
    text = problem(tmp_path, rows)
    for expected in (
        "row 1: rate 'abc' is not a number",
        "row 2: missing currency of the rate per kg shipped",
        "row 3: currency 'Euro' is not an ISO 4217 code",
        "row 3: valid_from '2024-13-01' is not a date (yyyy-mm-dd)",
        "row 4: driver receivable_years_late is an amount of receivables",
        "row 4: annual interest rate 9 > 1 (write 5 % as 0.05)",
        "row 4: valid_to 2024-01-01 is before valid_from 2024-02-01",
        "row 5: activity 'Tender Work' is not a plain identifier",
        "row 5: rate 1.1234567 has more than 6 decimals",
        "row 7: missing valid_from",
    ):
        assert expected in text
    assert "row 6" not in text  # an empty line is skipped


def test_one_activity_keeps_its_category_and_driver(tmp_path):
    rows = GOOD.replace(
        "order_line_entry,order_processing,order_lines,2.20",
        "order_line_entry,order_processing,orders,2.20",
    )
    assert "row 2: activity 'order_line_entry' has cost category order_processing and driver " in (
        problem(tmp_path, rows)
    )


def test_missing_or_unknown_columns_name_the_file(tmp_path):
    text = problem(tmp_path, GOOD, header=HEADER.replace("valid_to,", "valid_until,"))
    assert "missing column(s) valid_to" in text and "unknown column(s) valid_until" in text


def test_unreadable_or_empty_catalogue(tmp_path):
    with pytest.raises(CatalogueError, match="cannot read the activity catalogue"):
        load_catalogue(tmp_path / "missing.csv")
    assert "has no rows" in problem(tmp_path, "")


def test_as_of_date_setting(monkeypatch):
    monkeypatch.setenv("KAM_AS_OF_DATE", "2024-05-31")
    assert Settings.load().as_of_date == "2024-05-31"
    monkeypatch.setenv("KAM_AS_OF_DATE", "latest_data")
    assert Settings.load().as_of_date == "latest_data"
    monkeypatch.setenv("KAM_AS_OF_DATE", "today")
    with pytest.raises(ValueError, match=r"costing\.as_of_date"):
        Settings.load()


def test_a_zero_rate_is_valid_and_stops_pricing_an_activity(tmp_path):
    rows = GOOD.replace("2.80,CHF", "0,CHF").replace("0.045,,", "0,,")
    old, _, terms = load_catalogue(catalogue(tmp_path, rows))
    assert old.rate == Decimal("0") and terms.rate == Decimal("0")


def test_missing_required_values_are_named(tmp_path):
    text = problem(tmp_path, "order_handling,order_processing,,,CHF,2024-01-01,,x\n")
    assert "row 1: missing driver" in text and "row 1: missing rate" in text
