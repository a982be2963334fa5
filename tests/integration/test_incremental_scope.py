"""A month-scoped refresh leaves the working database exactly as a full rebuild of the same input.

Generated demo data is built in full; then inputs change in a few months (late invoice lines in
an old month, a credit note, a withdrawn shipments file, extra service tickets, and an invoice
after the latest date, which moves the as-of date of open receivables). A refresh scoped to the
months the scope contract names (`contract_scope`) must leave every table and view of
data/warehouse/kam.duckdb equal, row for row, to a fresh full build of the changed input.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance

from orchestration.demo_data import generate
from orchestration.scope.run_scope import RunScope, write_scope
from orchestration.settings import Settings

INVOICE_HEADER = (
    "invoice_number;line_number;invoice_date;customer_id;product_id;quantity;unit_price;currency;"
    "document_type;standard_cost_per_unit;due_date;payment_date\n"
)
SERVICE_HEADER = (
    "ticket_id;customer_id;service_date;cost_category;hours;hourly_rate;material_amount;"
    "currency;description\n"
)
WITHDRAWN = "shipments/shipments_2023-06.csv"
# When a changed decision was first taken: these runs stop before publishing, so none records
# its decisions in the designation log, and each dates a decision the log lacks by its start.
VOLATILE_COLUMNS = {"decided_at"}


def german(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def parse(text: str) -> date | None:
    return date(int(text[6:]), int(text[3:5]), int(text[:2])) if text else None


def rows(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding) as f:
        return list(csv.DictReader(f, delimiter=";"))


def month(d: date) -> date:
    return d.replace(day=1)


def months_between(first: date, last: date) -> set[date]:
    out, m = set(), month(first)
    while m <= month(last):
        out.add(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return out


def latest_invoice_date(raw: Path) -> date:
    """The as-of date of open receivables (costing.as_of_date = latest_data)."""
    days = [
        d
        for path in (raw / "invoice_lines").glob("*.csv")
        for r in rows(path)
        for d in (parse(r["invoice_date"]), parse(r["payment_date"]))
        if d
    ]
    return max(days)


def change_inputs(raw: Path) -> dict[str, object]:
    """Change the raw files in place; return what the scope contract needs to know."""
    customer = rows(raw / "customers" / "customers.csv", "cp1252")[0]["customer_id"]
    old_as_of = latest_invoice_date(raw)
    new_day = old_as_of + timedelta(days=3)
    late = [  # invoice lines arriving late for March 2023, paid in May
        f"RLATE0001;{n};15.03.2023;{customer};P0001;{q};12,50;EUR;invoice;7,25;14.04.2023;20.05.2023\n"
        for n, q in ((1, "3,000"), (2, "1.250,000"))
    ]
    credit = f"GLATE0001;1;10.08.2023;{customer};P0002;2,000;40,00;CHF;credit_note;25,00;09.09.2023;20.08.2023\n"
    newest = f"RLATE0002;1;{german(new_day)};{customer};P0003;5,000;99,90;USD;invoice;50,00;{german(new_day + timedelta(days=30))};\n"
    (raw / "invoice_lines" / "invoice_lines_late.csv").write_text(
        INVOICE_HEADER + "".join(late) + credit + newest, encoding="utf-8"
    )
    (raw / "service_logs" / "service_logs_extra.csv").write_text(
        SERVICE_HEADER
        + f"TLATE0001;{customer};12.09.2023;training;3,50;120,00;;CHF;Schulung nachgetragen\n",
        encoding="utf-8",
    )
    withdrawn = rows(raw / WITHDRAWN)
    (raw / WITHDRAWN).unlink()
    return {
        "late_invoice": (date(2023, 3, 15), date(2023, 5, 20)),
        "credit_note": (date(2023, 8, 10), date(2023, 8, 20)),
        "withdrawn_shipments": {r["shipment_id"]: parse(r["ship_date"]) for r in withdrawn},
        "service_ticket": date(2023, 9, 12),
        "as_of": (old_as_of, new_day),
        "unpaid_invoice": new_day,
    }


def contract_scope(changed: dict[str, object]) -> RunScope:
    """THE SCOPE UNDER TEST: the months the scope contract puts in scope for these changes.

    Every month in which an input row changed; for invoice lines every month from the invoice
    month through the payment month (through the latest month while unpaid); and the months
    from the previous to the new as-of date. The scope the ingest computes from these changes
    (orchestration/incremental/) follows the same contract.
    """
    months: set[date] = set()
    months |= months_between(*changed["late_invoice"])
    months |= months_between(*changed["credit_note"])
    months |= {month(d) for d in changed["withdrawn_shipments"].values()}
    months |= {month(changed["service_ticket"])}
    old_as_of, new_as_of = changed["as_of"]
    months |= months_between(old_as_of, new_as_of)
    months |= months_between(changed["unpaid_invoice"], new_as_of)
    return RunScope.of_months(months)


def refresh(data_dir: Path, scope: RunScope) -> None:
    """The refresh job up to the working database: ingest, dbt build (models and tests) and the
    cost checks; not the GX validation and the publication, which read the same tables."""
    from orchestration.definitions import defs
    from orchestration.defs.dbt import RUN_SCOPE_KEY

    settings = Settings.load()
    assert settings.data_dir == data_dir
    write_scope(settings, scope)
    job = defs.resolve_job_def("kam_refresh")
    graph = job.asset_layer.asset_graph
    # Not the publication; and not the run-scope asset either, which would compute the scope
    # from the ingest's changes: here dbt gets exactly the contract's months (the computed
    # scope is tested end to end in test_incremental_refresh.py).
    left_out = {AssetKey("publication"), RUN_SCOPE_KEY}
    warehouse = job.get_subset(
        asset_selection={k for k in graph.get_all_asset_keys() if k not in left_out},
        asset_check_selection={k for k in graph.asset_check_keys if not k.name.startswith("gx_")},
    )
    result = warehouse.execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every table and view of the working database: name -> its rows, sorted."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' UNION ALL "
                "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal"
            ).fetchall()
        ]
        out = {}
        for name in sorted(names):
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                    "ORDER BY column_index",
                    [name],
                ).fetchall()
                if c not in VOLATILE_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            out[name] = sorted(
                con.execute(f'SELECT {select} FROM main."{name}"').fetchall(), key=repr
            )
        return out


@pytest.fixture(scope="module")
def scoped_and_full(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("incremental")
    raw, db = data_dir / "raw", data_dir / "warehouse" / "kam.duckdb"
    generate(raw, invoice_lines=2500, seed=11, fmt="csv", months=14)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(data_dir))
        refresh(data_dir, RunScope.everything())
        changed = change_inputs(raw)
        scope = contract_scope(changed)
        refresh(data_dir, scope)
        scoped = snapshot(db)
        db.unlink()  # a fresh full build of the same input
        refresh(data_dir, RunScope.everything())
    return scoped, snapshot(db), scope, changed


def test_the_scope_is_a_few_months_of_the_data(scoped_and_full):
    _, full, scope, _ = scoped_and_full
    data_months = {r[1] for r in full["int_account_revenue_months"]}  # (account_id, month, ...)
    assert not scope.full and 0 < len(scope.months) < len(data_months)
    assert set(scope.months) <= data_months  # every scoped month has invoices


def test_every_table_equals_a_full_rebuild_row_for_row(scoped_and_full):
    scoped, full, _, _ = scoped_and_full
    assert sorted(scoped) == sorted(full)
    different = [name for name in full if scoped[name] != full[name]]
    assert different == [], f"tables that differ from a full rebuild: {different}"


def test_the_changes_reached_the_working_tables(scoped_and_full):
    """Each change is visible after the scoped run (so the equality above is not vacuous)."""
    scoped, _, _, changed = scoped_and_full
    documents = {(r[0], r[1]) for r in scoped["int_invoice_documents"]}  # number, type
    assert {("RLATE0001", "invoice"), ("GLATE0001", "credit_note"), ("RLATE0002", "invoice")} <= (
        documents
    )
    cost_line_ids = {r[0] for r in scoped["cost_lines"]}  # cost_line_id first
    assert "service_logs:TLATE0001" in cost_line_ids
    withdrawn = {f"shipments:{s}:shipment_handling" for s in changed["withdrawn_shipments"]}
    assert withdrawn and not withdrawn & cost_line_ids
