"""Adding a cost source takes a declaration and a data file, nothing else.

A temp copy of the project gets sources/trade_fairs.yml (direct, category mapped from a column)
and sources/sample_shipments.yml (driver-based, a new activity in the catalogue, of a 15th cost
category: one row added to the category seed) plus their raw files; `kam refresh` runs in the copy (its own dbt project, generated staging models, GX checks)
and the amounts must appear in cost_lines and cost_to_serve under the right categories.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from orchestration.demo_data import generate
from orchestration.publish.folders import current_publication
from orchestration.settings import PROJECT_ROOT

IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "data", "target", "logs", "*.lock", "__pycache__", ".*cache"
)

NEW_CATEGORY = "product_samples"
TRADE_FAIRS_YML = """\
name: trade_fairs
description: Trade-fair invitations and booth costs spent on a customer (marketing export).
files: "marketing/trade_fairs_*.csv"
format: {type: csv, delimiter: ";"}
columns:
  - {name: invitation_id, type: text, required: true, description: "Invitation number."}
  - {name: customer_id, type: text, required: true, description: "Customer invited."}
  - {name: fair_date, type: date, required: true, description: "Day of the fair."}
  - {name: fair, type: text, required: true, description: "Fair name."}
  - {name: cost_type, type: text, required: true, allowed: [invitation, booth_talk], description: "What was spent."}
  - {name: guests, type: integer, required: true, min: 0, description: "Guests invited."}
  - {name: cost_per_guest, type: "decimal(12,2)", required: true, min: 0, description: "Ticket, catering per guest."}
  - {name: extra_amount, type: "decimal(18,2)", min: 0, description: "Hotel, travel."}
  - {name: currency, type: currency, required: true, description: "Currency."}
unique_key: [invitation_id]
references:
  - {column: customer_id, source: customers}
currency: {column: currency, date_column: fair_date}
cost:
  owner: Marketing (events)
  customer: customer_id
  date: fair_date
  currency: currency
  category: {column: cost_type, map: {invitation: sales_promotion, booth_talk: presentations}}
  amount: guests * cost_per_guest + extra_amount
  detail: "fair {fair}: {guests} guest(s) x {cost_per_guest}[ + {extra_amount}] {currency}"
"""

SAMPLES_YML = """\
name: sample_shipments
description: Free product samples sent to customers (count of sample parcels).
columns:
  - {name: sample_id, type: text, required: true, description: "Sample order."}
  - {name: customer_id, type: text, required: true, description: "Customer."}
  - {name: sent_on, type: date, required: true, description: "Sent."}
  - {name: parcels, type: integer, required: true, min: 0, description: "Parcels."}
  - {name: currency, type: currency, required: true, description: "Currency of the export."}
unique_key: [sample_id]
references:
  - {column: customer_id, source: customers}
currency: {column: currency, date_column: sent_on}
cost:
  owner: Application lab
  customer: customer_id
  date: sent_on
  currency: currency
  allocation: {activity: sample_handling, driver: sample_parcels, quantity: parcels, unit: parcel}
"""


def kam(root: Path, data: Path):
    """`kam ...` run in the project copy at `root`, on the data folder `data`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAM_")}
    env |= {"KAM_DATA_DIR": str(data), "PYTHONPATH": str(root)}
    return lambda *args: subprocess.run(
        [sys.executable, "-c", "from orchestration.cli.main import main; main()", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project") / "kam"
    shutil.copytree(PROJECT_ROOT, root, ignore=IGNORE)
    data = root / "data"
    generate(data / "raw", invoice_lines=2000, seed=11, fmt="csv", months=14)
    with (data / "raw" / "customers" / "customers.csv").open(encoding="cp1252") as f:
        customers = [r for r in csv.DictReader(f, delimiter=";") if r["currency"] == "CHF"][:2]
    c1, c2 = customers[0]["customer_id"], customers[1]["customer_id"]
    (root / "sources" / "trade_fairs.yml").write_text(TRADE_FAIRS_YML)
    (root / "sources" / "sample_shipments.yml").write_text(SAMPLES_YML)
    with (root / "config" / "activity_rates.csv").open("a") as f:
        f.write(f"sample_handling,{NEW_CATEGORY},sample_parcels,35.00,CHF,2020-01-01,,Sample\n")
    with (root / "dbt_project" / "seeds" / "cost_categories.csv").open("a") as f:
        f.write(f"{NEW_CATEGORY},Product samples,15\n")  # a 15th category, one row
    (data / "raw" / "marketing").mkdir()
    (data / "raw" / "marketing" / "trade_fairs_2025.csv").write_text(
        "invitation_id;customer_id;fair_date;fair;cost_type;guests;cost_per_guest;extra_amount;"
        "currency\n"
        f"TF1;{c1};12.02.2024;Hannover Messe;invitation;3;250,50;1.200,00;CHF\n"
        f"TF2;{c2};13.02.2024;Hannover Messe;booth_talk;2;80,00;;CHF\n"
        f"TF3;{c1};14.02.2024;Hannover Messe;invitation;-1;80,00;;CHF\n"  # quarantined
    )
    (data / "raw" / "sample_shipments").mkdir()
    (data / "raw" / "sample_shipments" / "samples.csv").write_text(
        f"sample_id;customer_id;sent_on;parcels;currency\nS1;{c2};05.03.2024;4;CHF\n"
    )
    run = kam(root, data)
    validated = run("sources", "validate")
    assert validated.returncode == 0, validated.stderr
    refreshed = run("refresh")
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    listed = run("sources", "list")
    return root, data, c1, c2, listed.stdout


def query(data: Path, sql: str):
    current = current_publication(data / "published")  # resolved: one publication throughout
    with duckdb.connect() as con:
        return con.execute(sql.replace("$P", str(current))).fetchall()


def test_trade_fair_amounts_reach_cost_lines_and_cost_to_serve(project):
    _, data, c1, c2, _ = project
    lines = query(
        data,
        "SELECT source_id, customer_id, cost_category, amount, detail FROM "
        "'$P/cost_lines/*.parquet' WHERE source_name = 'trade_fairs' ORDER BY source_id",
    )
    # TF1: round(3 x 250.50) + 1200.00 = 1951.50 ; TF2: 2 x 80.00 = 160.00 ; TF3 quarantined
    assert [(i, c, cat, a) for i, c, cat, a, _ in lines] == [
        ("TF1", c1, "sales_promotion", D("1951.50")),
        ("TF2", c2, "presentations", D("160.00")),
    ]
    assert lines[0][4] == "fair Hannover Messe: 3 guest(s) x 250.50 + 1200.00 CHF"
    assert lines[1][4] == "fair Hannover Messe: 2 guest(s) x 80.00 CHF"
    # cost_to_serve holds them under the right category and reconciles with cost_lines
    (gap,) = query(
        data,
        "SELECT count(*) FROM (SELECT account_id, month, cost_category, sum(amount) AS s "
        "FROM '$P/cost_lines/*.parquet' GROUP BY ALL) l FULL JOIN '$P/cost_to_serve/*.parquet' c "
        "USING (account_id, month, cost_category) WHERE l.s IS DISTINCT FROM c.amount",
    )[0]
    assert gap == 0
    (promo,) = query(
        data,
        "SELECT sum(amount) FROM '$P/cost_to_serve/*.parquet' c JOIN "
        "(SELECT DISTINCT account_id FROM '$P/cost_lines/*.parquet' WHERE source_id = 'TF1' "
        "AND source_name = 'trade_fairs') USING (account_id) "
        "WHERE month = DATE '2024-02-01' AND cost_category = 'sales_promotion'",
    )[0]
    (other,) = query(
        data,
        "SELECT coalesce(sum(amount), 0) FROM '$P/cost_lines/*.parquet' l JOIN "
        "(SELECT DISTINCT account_id FROM '$P/cost_lines/*.parquet' WHERE source_id = 'TF1' "
        "AND source_name = 'trade_fairs') USING (account_id) WHERE month = DATE '2024-02-01' "
        "AND cost_category = 'sales_promotion' AND source_name <> 'trade_fairs'",
    )[0]
    assert promo == other + D("1951.50")
    # relationship_costs of key_account_value = cost_to_serve total
    (total_cts, total_kav) = query(
        data,
        "SELECT (SELECT sum(amount) FROM '$P/cost_to_serve/*.parquet'), "
        "(SELECT sum(relationship_costs) FROM '$P/key_account_value.parquet')",
    )[0]
    assert total_cts == total_kav


def test_driver_based_source_is_priced_by_its_catalogue_activity(project):
    _, data, _, c2, _ = project
    rows = query(
        data,
        "SELECT customer_id, cost_category, activity, driver, driver_quantity, rate, amount "
        "FROM '$P/cost_lines/*.parquet' WHERE source_name = 'sample_shipments'",
    )
    assert rows == [
        (c2, NEW_CATEGORY, "sample_handling", "sample_parcels", D("4"), D("35"), D("140.00"))
    ]


def test_a_15th_category_runs_end_to_end(project):
    """One seed row and a catalogue row using it: validated, built, checked by the GX suites
    (their value sets refer to the list) and published with its label."""
    data = project[1]
    published = query(
        data,
        "SELECT cost_category, cost_category_label, sum(amount) FROM "
        f"'$P/cost_to_serve/*.parquet' WHERE cost_category = '{NEW_CATEGORY}' GROUP BY ALL",
    )
    assert published == [(NEW_CATEGORY, "Product samples", D("140.00"))]


@pytest.mark.parametrize(
    ("seed_row", "catalogue_row", "reason"),
    [
        ("gift_boxes,,16", "", "row 16: category 'gift_boxes' has no label"),
        ("gift_boxes,Gift boxes,", "", "row 16: category 'gift_boxes' has no sort_order"),
        ("training,Training twice,16", "", "row 16: cost_category 'training' is already in row 11"),
        ("", "gift_wrap,gifts,orders,1.00,CHF,2020-01-01,,Wrap", "unknown cost category 'gifts'"),
    ],
)
def test_a_category_the_pipeline_cannot_run_is_refused_by_validate(
    project, tmp_path, seed_row, catalogue_row, reason
):
    root = tmp_path / "kam"
    shutil.copytree(project[0], root, ignore=IGNORE)
    seed = root / "dbt_project" / "seeds" / "cost_categories.csv"
    for path, row in ((seed, seed_row), (root / "config" / "activity_rates.csv", catalogue_row)):
        if row:
            path.write_text(path.read_text() + row + "\n")
    refused = kam(root, tmp_path / "data")("sources", "validate")
    assert refused.returncode == 1 and reason in refused.stderr, refused.stderr
