"""Key-account history across builds on a small crafted data set.

The scoring, lifecycle, whale-curve and KPI rules are dbt unit tests on the models that hold
them, on the same accounts (dbt_project/models/intermediate/steering/_steering__unit_tests.yml,
models/marts/_marts__unit_tests.yml). Here, through real builds: the designation history over
three scoring dates, decisions frozen in the designation log surviving a rebuild under a new
matrix, and an assessment of an unknown account quarantined.

Accounts (all CHF; invoices on the 15th, due 30 days later; data 2024-01 .. 2025-06):
  G1  group of C1 + C2, since 2010-01-01: 6000 per site every month, paid on the due date
  C3  since 2020-06-15: 2000 every month, paid 10 days late
  C4  since 2024-01-10 (new): 500 in Feb, May and Sep 2024, paid 30 days late; a 4000 training
      cost in Oct 2024
  C5  since 2014-06-01: 1500 every month Jan-Jun 2024, then nothing (lost)
  C6  since 2012-03-01: 1000 every month, paid 5 days late; 2 complaints in Sep 2024
  C7  since 2018-01-01: 3000 every month Jan-Jun 2024, then 1000 (falling revenue)
  C8  since 2021-01-01: 1000 every month Jan-Jun 2024, then 2500 (growing revenue)
  C9  since 2024-11-01 (new): never orders
Assessments: G1 cultural fit 8 (01.11.2024), C1 (a site of G1) partner potential 7
(01.12.2024), C3 cultural fit 6 and purchasing potential 50'000 (01.11.2024), C6 cultural fit
3 (01.06.2023: stale after 12 months), G99 (unknown account: quarantined).

Run 1 uses MATRIX_A / LIFECYCLE below; its decisions are written to the designation log as the
publication step does. Run 2 deletes the working area (a full rebuild) and uses MATRIX_B.
"""

import json
import os
import re
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest
import yaml

from orchestration.costing.catalogue import load_catalogue
from orchestration.costing.validation import write_catalogue
from orchestration.defs.resources import dbt_executable
from orchestration.ingest.load import ingest_source
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.sources.contracts import load_contracts
from orchestration.steering.config import load_kam_config
from orchestration.steering.history import ensure_designation_log, log_path, persist_designation_log
from tests.conftest import CUSTOMERS_HEADER, INVOICE_HEADER, RATES

D1, D2, D3 = date(2024, 12, 31), date(2025, 3, 31), date(2025, 6, 30)

MATRIX_A = {
    "scoring_dates": {"frequency": "quarter", "min_history_months": 12},
    "window_months": 12,
    "judgment_max_age_months": 12,
    "criteria": [
        {"criterion": "average_transaction_size", "weight": 40, "scoring": {"method": "thresholds", "bands": [{"score": 1}, {"from": 1000, "score": 5}, {"from": 5000, "score": 10}]}},
        {"criterion": "solvency", "weight": 20, "scoring": {"method": "thresholds", "bands": [{"score": 10}, {"from": 5, "score": 5}, {"from": 20, "score": 1}]}},
        {"criterion": "tenure", "weight": 20, "scoring": {"method": "thresholds", "bands": [{"score": 1}, {"from": 2, "score": 4}, {"from": 5, "score": 7}, {"from": 10, "score": 10}]}},
        {"criterion": "cultural_fit", "weight": 20},
    ],
    "designation": {"rule": "top_n", "top_n": 2, "min_weight_coverage": 0.7},
}  # fmt: skip
MATRIX_B = {
    **MATRIX_A,
    "criteria": [
        {"criterion": "average_transaction_size", "weight": 0.5, "scoring": {"method": "percentile", "bands": [{"from": 0, "score": 1}, {"from": 50, "score": 5}, {"from": 90, "score": 10}]}},
        {"criterion": "solvency", "weight": 0.3, "scoring": MATRIX_A["criteria"][1]["scoring"]},
        {"criterion": "partner_potential", "weight": 0.2},
    ],
    "designation": {"rule": "top_n", "top_n": 3, "min_weight_coverage": 0.5},
}  # fmt: skip
LIFECYCLE = {
    "trend_months": 3,
    "lost_after_months": 4,
    "first_contact": {"max_tenure_months": 6, "min_orders": 3},
    "expansion": {"min_revenue_growth": 0.5},
    "recovery": {
        "max_revenue_growth": -0.3,
        "complaint_months": 3,
        "min_complaints": 2,
        "min_complaint_rate": 20,
    },
}
MONTHS = [date(2024 + (m // 12), m % 12 + 1, 15) for m in range(18)]  # 2024-01 .. 2025-06
DATA_END = date(2025, 6, 30)


def _german(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + ",00"


def _invoices() -> str:
    plan = {  # customer: (amount per month index, days paid after the due date)
        "C1": (lambda m: 6000, 0),
        "C2": (lambda m: 6000, 0),
        "C3": (lambda m: 2000, 10),
        "C4": (lambda m: 500 if m in (1, 4, 8) else 0, 30),
        "C5": (lambda m: 1500 if m < 6 else 0, 0),
        "C6": (lambda m: 1000, 5),
        "C7": (lambda m: 3000 if m < 6 else 1000, 0),
        "C8": (lambda m: 1000 if m < 6 else 2500, 0),
    }
    lines = []
    for customer, (amount_of, late) in plan.items():
        for m, day in enumerate(MONTHS):
            amount = amount_of(m)
            if not amount:
                continue
            due = day + timedelta(days=30)
            paid = due + timedelta(days=late)
            lines.append(
                f"R{customer}{m:02d};1;{day:%d.%m.%Y};{customer};P1;1,000;{_german(amount)};CHF;"
                f"invoice;{_german(amount * 6 // 10)};{due:%d.%m.%Y};"
                f"{paid:%d.%m.%Y}"
                if paid <= DATA_END
                else f"R{customer}{m:02d};1;{day:%d.%m.%Y};{customer};P1;1,000;{_german(amount)};"
                f"CHF;invoice;{_german(amount * 6 // 10)};{due:%d.%m.%Y};"
            )
    return INVOICE_HEADER + "\n".join(lines) + "\n"


CUSTOMERS = CUSTOMERS_HEADER + "".join(
    f"{cid};{name};{gid};{gname};CH;CHF;{since};30;;\n"
    for cid, name, gid, gname, since in [
        ("C1", "Alpha Werk Nord", "G1", "Alpha Gruppe", "01.01.2010"),
        ("C2", "Alpha Werk Süd", "G1", "Alpha Gruppe", "01.01.2010"),
        ("C3", "Beta AG", "", "", "15.06.2020"),
        ("C4", "Gamma GmbH", "", "", "10.01.2024"),
        ("C5", "Delta AG", "", "", "01.06.2014"),
        ("C6", "Epsilon SA", "", "", "01.03.2012"),
        ("C7", "Zeta AG", "", "", "01.01.2018"),
        ("C8", "Eta AG", "", "", "01.01.2021"),
        ("C9", "Theta AG", "", "", "01.11.2024"),
    ]
)
SERVICE = (
    "ticket_id;customer_id;service_date;cost_category;hours;hourly_rate;material_amount;"
    "currency;description\n"
    "T1;C6;10.09.2024;complaint_goodwill;1,00;100,00;0,00;CHF;Reklamation\n"
    "T2;C6;20.09.2024;complaint_goodwill;1,00;100,00;0,00;CHF;Reklamation\n"
    "T3;C4;01.10.2024;training;40,00;100,00;0,00;CHF;Schulung\n"
)
ASSESSMENTS = (
    "account_id;assessment_date;assessor;product_fit;buying_process;partner_potential;"
    "existing_relationships;cultural_fit;geographic_proximity;partnership_stage;"
    "purchasing_potential;currency;comment\n"
    "G1;01.11.2024;KAM;;;;;8;;;14.122.739.000,00;CHF;a group beyond 64-bit cents x rate\n"
    "C1;01.12.2024;KAM;;;7;;;;;;CHF;site id counts for its group\n"
    "C3;01.11.2024;KAM;;;;;6;;2;50.000,00;CHF;\n"
    "C6;01.06.2023;KAM;;;;;3;;;;CHF;stale by the end of 2024\n"
    "G99;01.11.2024;KAM;;;;;9;;;;CHF;unknown account\n"
)


def _build(settings: Settings, matrix: dict, tmp) -> duckdb.DuckDBPyConnection:
    """What the refresh job does up to publishing: ingest, read the log, dbt build (+ tests)."""
    for contract in load_contracts().values():
        ingest_source(contract, settings)
    # The activity catalogue asset (validated rates as Parquet for dbt). The numbers here are
    # computed with service tickets as the only relationship costs, so every driver-based
    # activity is priced at 0 (the documented way to stop pricing an activity).
    shipped = settings.activity_rates_file.read_text(encoding="utf-8").splitlines()
    zero = [shipped[0]] + [re.sub(r"^([^,]*,[^,]*,[^,]*,)[^,]*", r"\g<1>0", r) for r in shipped[1:]]
    catalogue = tmp / "activity_rates.csv"
    catalogue.write_text("\n".join(zero) + "\n", encoding="utf-8")
    write_catalogue(settings, load_catalogue(catalogue), catalogue)
    ensure_designation_log(settings)
    scoring, lifecycle = tmp / "scoring.yml", tmp / "lifecycle.yml"
    scoring.write_text(yaml.safe_dump(matrix), encoding="utf-8")
    lifecycle.write_text(yaml.safe_dump(LIFECYCLE), encoding="utf-8")
    dbt_vars = {"reporting_currency": "CHF"} | load_kam_config(scoring, lifecycle).dbt_vars()
    run = subprocess.run(
        [
            dbt_executable(),
            "build",
            *("--vars", json.dumps(dbt_vars)),
            *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
            *("--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")),
        ],
        env=os.environ | settings.dbt_env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-4000:]
    return duckdb.connect(str(settings.warehouse_db), read_only=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("kam")
    raw = root / "raw"
    for source, name, text in [
        ("exchange_rates", "rates.csv", RATES),
        ("customers", "customers.csv", CUSTOMERS),
        ("invoice_lines", "lines.csv", _invoices()),
        ("service_logs", "service.csv", SERVICE),
        ("account_assessments", "assessments.csv", ASSESSMENTS),
    ]:
        (raw / source).mkdir(parents=True)
        (raw / source / name).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(root))
        settings = Settings.load()
        settings.ensure_dirs()
        first = _build(settings, MATRIX_A, tmp_path_factory.mktemp("run1"))
        snapshot = {
            "key_account_designations": rows(first, "SELECT * FROM key_account_designations")
        }
        first.close()
        persist_designation_log(settings)  # what the publication step does after the checks
        logged = rows(duckdb.connect(), f"SELECT * FROM '{log_path(settings)}'")
        shutil.rmtree(settings.warehouse_dir)  # a full rebuild: only data/ raw + history stay
        settings.ensure_dirs()
        second = _build(settings, MATRIX_B, tmp_path_factory.mktemp("run2"))
        yield snapshot, logged, second, settings
        second.close()


def rows(con, sql: str) -> list[dict]:
    rel = con.execute(sql)
    names = [d[0] for d in rel.description]
    return [dict(zip(names, r, strict=True)) for r in rel.fetchall()]


def by(items, *keys):
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in items}


def test_designation_change_produces_history_rows(runs):
    history = runs[0]["key_account_designations"]
    rows_of = {
        a: sorted(
            (r["designation"], r["change"], r["valid_from"], r["valid_to"], r["is_current"])
            for r in history
            if r["account_id"] == a
        )
        for a in ("G1", "C5")
    }
    assert rows_of["G1"] == [("key_account", "first_scoring", D1, None, True)]
    # C5 stops ordering in June 2024: at 2025-06-30 its window has no invoices, only 40 % of
    # the matrix is scored, and it drops off the list, keeping its earlier period and scores.
    assert rows_of["C5"] == [
        ("key_account", "first_scoring", D1, D3, False),
        ("not_key_account", "removed", D3, None, True),
    ]
    c5 = by([r for r in history if r["account_id"] == "C5"], "designation")
    assert c5["key_account"]["opening_weighted_total"] == Decimal("7.500")
    assert c5["key_account"]["opening_rank"] == 2
    assert c5["key_account"]["last_scoring_date"] == D2
    assert c5["not_key_account"]["opening_reason"].startswith("not eligible: weight coverage 0.40")
    current = [r for r in history if r["is_current"]]
    assert len(current) == len({r["account_id"] for r in history})
    assert sum(r["is_key_account"] for r in current) == 2
    newcomer = [r for r in current if r["change"] == "designated"]
    assert [(r["account_id"], r["valid_from"]) for r in newcomer] == [("C7", D3)]


def test_frozen_history_survives_a_rebuild_and_a_new_matrix(runs):
    _, logged, con, _ = runs
    assert {(r["scoring_date"]) for r in logged} == {D1, D2, D3}
    version_a = {r["config_version"] for r in logged}
    assert len(version_a) == 1
    decisions = rows(con, "SELECT * FROM int_designation_decisions")
    frozen = [r for r in decisions if r["is_frozen"]]
    assert {r["scoring_date"] for r in frozen} == {D1, D2}
    assert {r["config_version"] for r in frozen} == version_a
    latest = [r for r in decisions if r["scoring_date"] == D3]
    assert not any(r["is_frozen"] for r in latest)
    assert {r["config_version"] for r in latest}.isdisjoint(version_a)
    # Matrix B (top 3) decides the latest date; the two key accounts of the frozen dates stay.
    key_at = {
        d: sorted(r["account_id"] for r in decisions if r["scoring_date"] == d and r["is_key_account"])
        for d in (D1, D2, D3)
    }  # fmt: skip
    assert key_at[D1] == key_at[D2] == ["C5", "G1"]
    assert len(key_at[D3]) == 3
    # account_scores follows the new matrix for every date (as-scored now), e.g. percentiles
    scores = by(rows(con, "SELECT * FROM account_criterion_scores"), "account_id", "scoring_date", "criterion")  # fmt: skip
    percentile = {
        a: scores[(a, D1, "average_transaction_size")]["percentile"]
        for a in ("C4", "C6", "C5", "C8", "C3", "C7", "G1")
    }
    assert percentile == pytest.approx(
        {"C4": 0, "C6": 100 / 6, "C5": 200 / 6, "C8": 50, "C3": 400 / 6, "C7": 400 / 6, "G1": 100},
        abs=1e-3,
    )
    size_scores = {a: scores[(a, D1, "average_transaction_size")]["score"] for a in percentile}
    assert size_scores == {"C4": 1, "C6": 1, "C5": 1, "C8": 5, "C3": 5, "C7": 5, "G1": 10}
    # a judgment entered on a site's customer id counts for its group
    assert scores[("G1", D1, "partner_potential")]["score"] == 7
    history = rows(con, "SELECT * FROM key_account_designations WHERE account_id = 'C5'")
    assert [(r["designation"], r["valid_from"], r["config_version"] in version_a) for r in history] == [
        ("key_account", D1, True),
        ("not_key_account", D3, False),
    ]  # fmt: skip


def test_unknown_account_in_assessments_is_quarantined(runs):
    settings = runs[3]
    reasons = (
        duckdb.connect()
        .execute(f"SELECT reason FROM '{settings.quarantine_glob('account_assessments')}'")
        .fetchall()
    )
    assert reasons == [("unknown account_id 'G99' (not an accepted row of customers)",)]
