"""Cost-to-serve on a small hand-built data set, through the whole refresh.

The rules themselves (driver-based allocation with a rate change in the middle of March,
financing split into payment terms and late payment per day and month, the bonus spread with
largest-remainder rounding, budget vs actual, the waterfall) are dbt unit tests on the models
that hold them, on the same case (dbt_project/models/intermediate/*/_*__unit_tests.yml and
models/marts/_marts__unit_tests.yml). Here: every cost source reaches cost_to_serve of one
account-month at the hand-computed amount, cost_to_serve is exactly the aggregate of cost_lines,
and each bad input of the issue stops the refresh before publishing, names the file, the row and
the problem, and leaves the last publication in place.

The test catalogue (rates chosen so that hand arithmetic is easy):
  financing 0.0365 a year = 0.0001 a day until 15.03.2024, 0.073 = 0.0002 a day from 16.03.
  order lines 2.00 CHF until 14.03.2024, 3.00 CHF from 15.03.2024; freight 0.10 EUR per kg.
"""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from orchestration.cli.runner import run_refresh
from orchestration.publish.folders import current_publication, parquet_files

CATALOGUE = """activity,cost_category,driver,rate,currency,valid_from,valid_to,description
order_handling,order_processing,orders,10.00,CHF,2024-01-01,,per order
order_line_entry,order_processing,order_lines,2.00,CHF,2024-01-01,2024-03-14,per line
order_line_entry,order_processing,order_lines,3.00,CHF,2024-03-15,,per line from 15.03.
credit_note_handling,order_processing,credit_notes,40.00,CHF,2024-01-01,,per credit note
shipment_handling,logistics,shipments,20.00,CHF,2024-01-01,,per shipment
express_surcharge,logistics,express_shipments,50.00,CHF,2024-01-01,,per express shipment
freight,logistics,shipped_kg,0.10,EUR,2024-01-01,,per kg
quotation_work,quotation_preparation,quote_hours,100.00,CHF,2024-01-01,,per hour
tender_work,tender_documents,tender_hours,120.00,CHF,2024-01-01,,per hour
payment_terms_financing,financing,receivable_years_in_terms,0.0365,,2024-01-01,2024-03-15,terms
payment_terms_financing,financing,receivable_years_in_terms,0.073,,2024-03-16,,terms
late_payment_financing,financing,receivable_years_late,0.073,,2024-01-01,,late
"""

RAW = {
    "exchange_rates": "rate_date;from_currency;to_currency;rate\n01.12.2023;EUR;CHF;0,950000\n",
    "customers": (
        "customer_id;customer_name;customer_group_id;customer_group_name;country;currency;"
        "customer_since;payment_net_days;cash_discount_pct;cash_discount_days\n"
        "C1;Alpha Werk Nord AG;G1;Alpha Gruppe;CH;CHF;01.01.2015;30;;\n"
        "C2;Alpha Werk Süd AG;G1;Alpha Gruppe;CH;CHF;01.01.2016;30;;\n"
        "C3;Beta SARL;;;FR;EUR;01.06.2020;30;;\n"
    ),
    "invoice_lines": (
        "invoice_number;line_number;invoice_date;customer_id;product_id;quantity;unit_price;"
        "currency;document_type;standard_cost_per_unit;due_date;payment_date\n"
        "R4;1;15.01.2024;C1;P1;1;1.000,00;CHF;invoice;600,00;14.02.2024;14.02.2024\n"
        "R5;1;15.02.2024;C1;P1;1;1.000,00;CHF;invoice;600,00;16.03.2024;16.03.2024\n"
        "R1;1;10.03.2024;C1;P1;1;1.000,00;CHF;invoice;600,00;09.04.2024;19.04.2024\n"
        "R1;2;10.03.2024;C1;P2;1;1.000,00;CHF;invoice;600,00;09.04.2024;19.04.2024\n"
        "R1;3;10.03.2024;C1;P3;1;1.000,00;CHF;invoice;600,00;09.04.2024;19.04.2024\n"
        "R2;1;20.03.2024;C2;P1;2;500,00;CHF;invoice;300,00;19.04.2024;15.04.2024\n"
        "R2;2;20.03.2024;C2;P2;2;500,00;CHF;invoice;300,00;19.04.2024;15.04.2024\n"
        "G1;1;25.03.2024;C1;P1;1;100,00;CHF;credit_note;60,00;24.04.2024;24.04.2024\n"
        "R3;1;15.04.2024;C3;P1;1;1.000,00;EUR;invoice;500,00;15.05.2024;\n"
    ),
    "deductions": (
        "deduction_id;customer_id;booking_date;deduction_type;amount;currency;invoice_number;"
        "period_start;period_end\n"
        "B1;C1;05.04.2024;bonus;100,00;CHF;;01.01.2024;31.03.2024\n"
        "B2;C3;30.06.2024;bonus;10,00;EUR;;01.04.2024;30.06.2024\n"
        "B3;C3;15.02.2024;bonus;5,00;EUR;;01.01.2024;31.01.2024\n"
        "D4;C2;15.04.2024;cash_discount;20,00;CHF;R2;;\n"
    ),
    "shipments": (
        "shipment_id;customer_id;ship_date;invoice_number;service_level;packages;weight_kg;carrier\n"
        "S1;C1;08.03.2024;R1;standard;10;500,0;Planzer\n"
        "S2;C2;19.03.2024;R2;express;3;120,5;DHL Express\n"
    ),
    "quotations": (
        "quote_id;customer_id;quote_date;quote_type;hours;quoted_amount;currency;status;"
        "description\n"
        "Q1;C1;05.03.2024;quote;2,50;12.000,00;CHF;won;Angebot Serienteile\n"
        "Q2;C2;12.03.2024;tender;10,00;250.000,00;CHF;open;Ausschreibung Rahmenvertrag\n"
        "Q3;C1;06.03.2024;quote;0,00;500,00;CHF;lost;Preisanfrage\n"
    ),
    "service_logs": (
        "ticket_id;customer_id;service_date;cost_category;hours;hourly_rate;material_amount;"
        "currency;description\n"
        "T1;C1;11.03.2024;complaint_goodwill;2,00;90,00;150,00;CHF;Reklamation\n"
    ),
    "visit_costs": (
        "visit_id;customer_id;visit_date;employee;purpose;hours;hourly_rate;travel_amount;"
        "expense_amount;currency\n"
        "V1;C2;14.03.2024;Thomas Brunner;Quartalsgespräch;3,00;100,00;80,00;20,00;CHF\n"
    ),
    "marketing_bookings": (
        "booking_id;customer_id;booking_date;cost_category;campaign;vendor;amount;currency\n"
        "M1;C1;18.03.2024;sales_promotion;Messe;Messe Schweiz AG;1.000,00;EUR\n"
        "M2;C3;10.04.2024;account_development;Akquisition;Agentur Blickfang;500,00;CHF\n"
    ),
    "cost_budgets": (
        "account_id;year;cost_category;budget_amount;currency\n"
        "G1;2024;order_processing;100,00;CHF\n"
        "G1;2024;logistics;150,00;CHF\n"
        "C3;2024;financing;10,00;EUR\n"
    ),
}


def write_data(data_dir: Path) -> Path:
    for source, text in RAW.items():
        folder = data_dir / "raw" / source
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{source}.csv").write_text(text, encoding="utf-8")
    catalogue = data_dir / "activity_rates.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    return catalogue


def refresh(mp: pytest.MonkeyPatch, data_dir: Path, catalogue: Path):
    mp.setenv("KAM_DATA_DIR", str(data_dir))
    mp.setenv("KAM_ACTIVITY_RATES_FILE", str(catalogue))
    mp.setenv("KAM_AS_OF_DATE", "2024-05-31")
    mp.setenv("KAM_REPORTING_CURRENCY", "CHF")
    return run_refresh()


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ledger")
    catalogue = write_data(data_dir)
    with pytest.MonkeyPatch.context() as mp:
        outcome = refresh(mp, data_dir, catalogue)
    assert outcome.success, outcome.error
    return data_dir


def rows(data_dir: Path, sql: str) -> list[tuple]:
    current = current_publication(data_dir / "published")
    con = duckdb.connect()
    for table in ("cost_lines", "cost_to_serve", "key_account_value"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{parquet_files(current, table)}'")
    return con.execute(sql).fetchall()


def test_every_cost_source_reaches_one_account_month(ledger):
    # G1, March 2024, from the raw rows through the whole refresh: order processing 72.00 +
    # logistics 148.95 + quotes 250.00 + tenders 1200.00 + financing 17.70 + goodwill 330.00
    # (2 h x 90 + 150) + visit 400.00 (3 h x 100 + 80 + 20) + sales promotion 1000 EUR = 950.00
    # => 3368.65, the relationship costs of the waterfall (whose arithmetic, and each rule
    # behind these amounts, the dbt unit tests check on the model that holds it)
    by_category = dict(
        rows(
            ledger,
            """SELECT cost_category, amount FROM cost_to_serve
               WHERE account_id = 'G1' AND month = DATE '2024-03-01'""",
        )
    )
    assert by_category == {
        "order_processing": D("72.00"),
        "logistics": D("148.95"),
        "quotation_preparation": D("250.00"),
        "tender_documents": D("1200.00"),
        "financing": D("17.70"),
        "complaint_goodwill": D("330.00"),
        "consulting_and_visits": D("400.00"),
        "sales_promotion": D("950.00"),
    }
    [kav] = rows(
        ledger,
        """SELECT gross_revenue, bonuses, relationship_costs, key_account_value
           FROM key_account_value WHERE account_id = 'G1' AND month = DATE '2024-03-01'""",
    )
    assert kav == (D("4900.00"), D("71.02"), D("3368.65"), D("-1479.67"))


def test_cost_to_serve_is_exactly_the_aggregate_of_cost_lines(ledger):
    mismatches = rows(
        ledger,
        """WITH l AS (SELECT account_id, month, cost_category, sum(amount) AS amount,
                             count(*) AS n FROM cost_lines GROUP BY ALL)
           SELECT * FROM cost_to_serve c FULL JOIN l USING (account_id, month, cost_category)
           WHERE c.amount IS DISTINCT FROM l.amount OR c.cost_line_count IS DISTINCT FROM l.n""",
    )
    assert mismatches == []
    every_line_traced = rows(
        ledger,
        """SELECT count(*) FROM cost_lines WHERE source_file IS NULL OR source_row IS NULL
           OR (allocation = 'activity' AND (rate IS NULL OR driver_quantity IS NULL))""",
    )
    assert every_line_traced == [(0,)]


# --- bad input: stops before publishing, names file, row and problem; current stays ----------


def _break(data_dir: Path, source: str, old: str, new: str) -> Path:
    path = data_dir / "raw" / source / f"{source}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _catalogue(data_dir: Path, old: str, new: str) -> Path:
    path = data_dir / "activity_rates.csv"
    assert old in CATALOGUE
    path.write_text(CATALOGUE.replace(old, new), encoding="utf-8")
    return path


BAD_INPUTS = {
    "overlapping_validity": (
        lambda d: _catalogue(
            d, "order_line_entry,order_processing,order_lines,3.00,CHF,2024-03-15,",
            "order_line_entry,order_processing,order_lines,3.00,CHF,2024-03-01,",
        ),
        ["activity_rates.csv row 3:", "validity 2024-03-01..open of activity 'order_line_entry'",
         "overlaps row 2 (2024-01-01..2024-03-14)"],
    ),
    "missing_rate_for_driver_volume": (
        lambda d: _catalogue(
            d, "order_line_entry,order_processing,order_lines,2.00,CHF,2024-01-01,",
            "order_line_entry,order_processing,order_lines,2.00,CHF,2024-02-01,",
        ),
        ["driver_volumes_priced", "activity_rates.csv: missing rate for activity "
         "'order_line_entry' (driver order_lines) valid on 2024-01-15",
         "invoice_lines.csv row 1 (invoice R4: 1 order line(s))"],
    ),
    "negative_rate": (
        lambda d: _catalogue(d, "credit_notes,40.00,", "credit_notes,-40.00,"),
        ["activity_rates.csv row 4: negative rate -40.00"],
    ),
    "unknown_category_in_catalogue": (
        lambda d: _catalogue(d, "freight,logistics,", "freight,shipping,"),
        ["activity_rates.csv row 7: unknown cost category 'shipping'"],
    ),
    "unknown_category_in_source": (
        lambda d: _break(d, "service_logs", ";complaint_goodwill;", ";gift_wrapping;"),
        ["service_logs.csv row 1: unknown cost category in cost_category: \"gift_wrapping\""],
    ),
    "budget_for_unknown_account": (
        lambda d: _break(d, "cost_budgets", "C3;2024;financing", "G9;2024;financing"),
        ["budget_accounts_known", "cost_budgets.csv row 3: budget for unknown account 'G9'"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_stops_the_refresh_and_keeps_the_publication(ledger, tmp_path, case):
    data_dir = tmp_path / "data"
    shutil.copytree(ledger, data_dir, symlinks=True)
    before = current_publication(data_dir / "published")
    files_before = sorted(p.name for p in before.iterdir())
    breaker, messages = BAD_INPUTS[case]
    catalogue = breaker(data_dir)
    if catalogue.parent.name != data_dir.name:  # a raw file was broken, not the catalogue
        catalogue = data_dir / "activity_rates.csv"

    with pytest.MonkeyPatch.context() as mp:
        outcome = refresh(mp, data_dir, catalogue)

    assert not outcome.success
    for message in messages:
        assert message in outcome.error, outcome.error
    assert current_publication(data_dir / "published") == before
    assert sorted(p.name for p in before.iterdir()) == files_before
    assert len([p for p in (data_dir / "published").iterdir() if not p.is_symlink()]) == 1
