"""Bad cost inputs that must stop a refresh (not quarantine): unknown cost categories in a
source, budgets for unknown accounts. Messages name the file, the row and the problem."""

import pytest

from orchestration.costing.validation import unknown_budget_accounts
from orchestration.ingest.load import ingest_source
from orchestration.ingest.readers import IngestError
from orchestration.sources.contracts import load_contracts

SERVICE_HEADER = (
    "ticket_id;customer_id;service_date;cost_category;hours;hourly_rate;material_amount;"
    "currency;description\n"
)
BUDGET_HEADER = "account_id;year;cost_category;budget_amount;currency\n"


def ingest(settings, *names):
    contracts = load_contracts()
    return {n: ingest_source(contracts[n], settings) for n in names}


def test_unknown_cost_category_in_a_source_stops_ingest(settings, base_sources, write_raw):
    write_raw(
        "service_logs",
        "tickets_1.csv",
        SERVICE_HEADER + "T0;C1;04.01.2024;training;1;90,00;;CHF;ok\n",
    )
    ingest(settings, "exchange_rates", "customers", "service_logs")
    before = {p.name: p.read_bytes() for p in settings.accepted_dir("service_logs").iterdir()}
    path = write_raw(
        "service_logs",
        "tickets_2.csv",
        SERVICE_HEADER
        + "T1;C1;05.01.2024;training;2;90,00;;CHF;ok\n"
        + "T2;C1;06.01.2024;Gift_Wrapping;1;90,00;;CHF;not in the taxonomy\n"
        + "T3;C2;07.01.2024;training;x;90,00;;EUR;a bad number is still quarantined\n",
    )
    with pytest.raises(IngestError) as err:
        ingest(settings, "service_logs")
    assert f'{path} row 2: unknown cost category in cost_category: "Gift_Wrapping"' in str(
        err.value
    )
    assert "row 3" not in str(err.value)
    after = {p.name: p.read_bytes() for p in settings.accepted_dir("service_logs").iterdir()}
    assert after == before  # nothing written


def test_unknown_categories_are_listed_up_to_five_with_a_total(settings, base_sources, write_raw):
    rows = "".join(f"T{i};C1;05.01.2024;misc{i};1;90,00;;CHF;x\n" for i in range(1, 8))
    write_raw("service_logs", "tickets.csv", SERVICE_HEADER + rows)
    ingest(settings, "exchange_rates", "customers")
    with pytest.raises(IngestError) as err:
        ingest(settings, "service_logs")
    text = str(err.value)
    assert "row 5: unknown cost category" in text and "row 6" not in text
    assert "(7 rows in all)" in text


def test_budget_for_unknown_account_is_named_with_file_and_row(settings, base_sources, write_raw):
    path = write_raw(
        "cost_budgets",
        "budgets_2024.csv",
        BUDGET_HEADER
        + "G1;2024;training;1.000,00;CHF\n"  # a customer group
        + "C2;2024;financing;500,00;EUR\n"  # a customer without a group
        + "C1;2024;logistics;800,00;CHF\n"  # a site of group G1: budget the group
        + "G7;2024;logistics;800,00;CHF\n",  # unknown
    )
    ingest(settings, "exchange_rates", "customers", "cost_budgets")
    problems, total = unknown_budget_accounts(settings)
    assert total == 2
    assert problems == [
        f"{path} row 3: budget for unknown account 'C1' (C1 is a site of customer group G1; "
        "budget the group)",
        f"{path} row 4: budget for unknown account 'G7' (not a customer group id nor the id of a "
        "customer without a group)",
    ]


def test_known_budget_accounts_pass(settings, base_sources, write_raw):
    write_raw("cost_budgets", "b.csv", BUDGET_HEADER + "G1;2024;training;1.000,00;CHF\n")
    ingest(settings, "exchange_rates", "customers", "cost_budgets")
    assert unknown_budget_accounts(settings) == ([], 0)
