"""Deterministic, seeded demo data set in the raw (German ERP) data contract.

Rows are generated inside DuckDB from ``range()`` and hash-based pseudo-random numbers and
written month by month with ``COPY ... TO``, so memory stays bounded at any size.  Same
arguments -> byte-identical files (independent of the number of threads).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb

from orchestration.demo_data import activities, facts
from orchestration.demo_data.assessments import build_assessments
from orchestration.demo_data.customers import add_months, build_customers, build_rates

CURRENCIES = ("CHF", "EUR", "USD")
SEASON = [0.92, 0.98, 1.08, 1.02, 1.03, 1.0, 0.95, 0.78, 1.04, 1.06, 1.05, 0.85]
_SPEC = {  # the raw data contract: column[:kind], kind str unless given
    "customers": "customer_id customer_name customer_group_id customer_group_name country currency "
    "customer_since:date payment_net_days:int cash_discount_pct:d2 cash_discount_days:int",
    "invoice_lines": "invoice_number line_number:int invoice_date:date customer_id product_id "
    "quantity:d3 unit_price:d2 currency document_type standard_cost_per_unit:d2 due_date:date "
    "payment_date:date",
    "deductions": "deduction_id customer_id booking_date:date deduction_type amount:d2 currency "
    "invoice_number period_start:date period_end:date",
    "service_logs": "ticket_id customer_id service_date:date cost_category hours:d2 hourly_rate:d2 "
    "material_amount:d2 currency description",
    "visit_costs": "visit_id customer_id visit_date:date employee purpose hours:d2 hourly_rate:d2 "
    "travel_amount:d2 expense_amount:d2 currency",
    "exchange_rates": "rate_date:date from_currency to_currency rate:d6",
    "shipments": "shipment_id customer_id ship_date:date invoice_number service_level "
    "packages:int weight_kg:d1 carrier",
    "quotations": "quote_id customer_id quote_date:date quote_type hours:d2 quoted_amount:d2 "
    "currency status description",
    "marketing_bookings": "booking_id customer_id booking_date:date cost_category campaign vendor "
    "amount:d2 currency",
    "cost_budgets": "account_id year:int cost_category budget_amount:d2 currency",
    "account_assessments": "account_id assessment_date:date assessor product_fit:int "
    "buying_process:int partner_potential:int existing_relationships:int cultural_fit:int "
    "geographic_proximity:int partnership_stage:int purchasing_potential:d2 currency comment",
}
COLUMNS: dict[str, list[tuple[str, str]]] = {
    source: [(c.partition(":")[0], c.partition(":")[2] or "str") for c in spec.split()]
    for source, spec in _SPEC.items()
}
SOURCES = tuple(COLUMNS)
PARQUET_TYPES = {"str": "VARCHAR", "int": "INTEGER", "date": "DATE"}
PARQUET_TYPES |= {"d1": "DECIMAL(12, 1)", "d2": "DECIMAL(18, 2)", "d3": "DECIMAL(18, 3)"}
PARQUET_TYPES |= {"d6": "DECIMAL(18, 6)"}
CSV_EXPR = {"d1": 1, "d2": 2, "d3": 3, "d6": 6}  # decimals; German marks: 1.234,56


def _csv_expr(col: str, kind: str) -> str:
    if kind not in CSV_EXPR:
        return col  # dates via COPY DATEFORMAT, NULL -> empty field
    return f"translate(format('{{:,.{CSV_EXPR[kind]}f}}', {col}), ',.', '.,')"


def _write(
    con: duckdb.DuckDBPyConnection,
    source: str,
    src_sql: str,
    path: Path,
    fmt: str,
    order_by: str,
    *,
    bom: bool = False,
) -> None:
    """COPY ``src_sql`` (which has the contract's column names) to path in the contract format."""
    cols = COLUMNS[source]
    target = str(path).replace("'", "''")
    if fmt == "parquet":
        sel = ", ".join(f'CAST("{n}" AS {PARQUET_TYPES[k]}) AS "{n}"' for n, k in cols)
        opts = "FORMAT parquet, COMPRESSION zstd"
    else:
        names = [("\ufeff" if bom and i == 0 else "") + n for i, (n, _) in enumerate(cols)]
        sel = ", ".join(
            f'{_csv_expr(f"s.{n}", k)} AS "{a}"' for (n, k), a in zip(cols, names, strict=True)
        )
        opts = "FORMAT csv, HEADER, DELIMITER ';', QUOTE '\"', DATEFORMAT '%d.%m.%Y'"
    con.execute(
        f"COPY (SELECT {sel} FROM ({src_sql}) s ORDER BY {order_by}) TO '{target}' ({opts})"
    )


def _month_quotas(total: int, start: date, months: int) -> list[int]:
    """Split total lines over months (seasonality + ~5 % growth a year), exact sum."""
    w = [SEASON[add_months(start, m).month - 1] * 1.05 ** (m / 12) for m in range(months)]
    raw = [total * x / sum(w) for x in w]
    quotas = [int(r) for r in raw]
    by_remainder = sorted(range(months), key=lambda m: (quotas[m] - raw[m], m))
    for m in by_remainder[: total - sum(quotas)]:
        quotas[m] += 1
    return quotas


def _clean(out_dir: Path) -> None:
    for source in SOURCES:
        (out_dir / source).mkdir(parents=True, exist_ok=True)
        for ext in ("csv", "parquet"):
            for old in (out_dir / source).glob(f"{source}*.{ext}"):
                old.unlink()


def generate(
    out_dir: Path,
    invoice_lines: int,
    seed: int = 42,
    fmt: Literal["csv", "parquet"] = "csv",
    start: date = date(2023, 1, 1),
    months: int = 36,
    reporting_currency: str = "CHF",
    *,
    threads: int | None = None,
    memory_limit: str = "1GB",
) -> dict[str, int]:
    """Write the demo data set to ``out_dir/<source>/`` and return the row count per source.

    Output depends only on (invoice_lines, seed, fmt, start, months); rates for every pair of
    CHF/EUR/USD are written, so any of them works as ``reporting_currency``.
    """
    if invoice_lines < 1 or months < 1:
        raise ValueError("invoice_lines and months must be positive")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if start.day != 1:
        raise ValueError("start must be the first day of a month")
    if reporting_currency not in CURRENCIES:
        raise ValueError(f"reporting_currency must be one of {CURRENCIES}")
    out_dir = Path(out_dir)
    n_customers = min(30_000, max(60, invoice_lines // 2000))
    ctx = facts.Ctx(
        seed=seed,
        start=start,
        end=add_months(start, months),
        months=months,
        n_products=min(2000, max(50, invoice_lines // 5000)),
    )
    customers, spikes = build_customers(n_customers, ctx.n_products, start, months, seed)
    _clean(out_dir)
    work = Path(tempfile.mkdtemp(prefix=".generate-", dir=out_dir))
    config = {
        "memory_limit": memory_limit,
        "threads": threads or min(8, os.cpu_count() or 2),
        "temp_directory": str(work / "spill"),
        "preserve_insertion_order": True,
    }
    con = duckdb.connect(str(work / "work.duckdb"), config=config)
    con.execute("SET enable_progress_bar = false")
    try:
        con.register("customers_arrow", customers)
        facts.setup(con, ctx, spikes)
        counts = _write_all(con, ctx, out_dir, fmt, invoice_lines, work)
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)
    return counts


def _write_all(
    con: duckdb.DuckDBPyConnection, ctx: facts.Ctx, out: Path, fmt: str, total: int, work: Path
) -> dict[str, int]:
    counts: dict[str, int] = {}
    ext = fmt
    # customers: Windows-1252 (small file, transcoded in Python)
    tmp = work / "customers.csv" if fmt == "csv" else out / "customers" / "customers.parquet"
    _write(con, "customers", "SELECT * FROM customers", tmp, fmt, "customer_id")
    if fmt == "csv":
        text = tmp.read_bytes().decode("utf-8")
        (out / "customers" / "customers.csv").write_bytes(text.encode("cp1252"))
    counts["customers"] = con.execute("SELECT count(*) FROM customers").fetchone()[0]

    # invoice lines: one file per month, UTF-8 with BOM
    width = max(6, len(str(total)))
    offsets: dict[int, list[int]] = {}
    shipments = 0
    for m, quota in enumerate(_month_quotas(total, ctx.start, ctx.months)):
        if quota == 0:
            continue
        month = add_months(ctx.start, m)
        off = offsets.setdefault(month.year, [0, 0, 0])
        n_inv, n_cn, lines = facts.invoice_month(
            con, ctx, m, quota, (off[0], off[1]), width, quota // 2 + 20
        )
        if lines < quota:  # unlucky draw of line counts: use the (always sufficient) maximum
            n_inv, n_cn, lines = facts.invoice_month(
                con, ctx, m, quota, (off[0], off[1]), width, quota
            )
        n_ship = facts.shipments_month(con, ctx, m, off[2], width)
        off[0], off[1], off[2] = off[0] + n_inv, off[1] + n_cn, off[2] + n_ship
        shipments += n_ship
        _write(
            con,
            "shipments",
            "SELECT * FROM ship",
            out / "shipments" / f"shipments_{month:%Y-%m}.{ext}",
            fmt,
            "shipment_id",
        )
        src = """SELECT *, CASE WHEN is_cn THEN 'credit_note' ELSE 'invoice' END AS document_type
                 FROM lines"""
        path = out / "invoice_lines" / f"invoice_lines_{month:%Y-%m}.{ext}"
        _write(
            con,
            "invoice_lines",
            src,
            path,
            fmt,
            "invoice_date, invoice_number, line_number",
            bom=True,
        )
    counts["invoice_lines"] = total
    counts["shipments"] = shipments
    con.execute("DROP TABLE IF EXISTS lines; DROP TABLE IF EXISTS inv; DROP TABLE IF EXISTS ship")

    # deductions: one file per booking year
    facts.period_deductions(con, ctx)
    n = con.execute("SELECT count(*) FROM ded").fetchone()[0]
    con.execute(f"""
        CREATE TABLE ded_out AS
        SELECT 'D' || lpad(row_number() OVER (ORDER BY d.booking_date, c.customer_id,
                   d.deduction_type, d.invoice_number, d.amount)::VARCHAR,
                   {max(7, len(str(n)))}, '0') AS deduction_id,
               c.customer_id, d.* EXCLUDE (cidx)
        FROM ded d JOIN customers c USING (cidx)
    """)
    for year in range(ctx.start.year, add_months(ctx.end, -1).year + 1):
        src = f"SELECT * FROM ded_out WHERE year(booking_date) = {year}"
        _write(
            con,
            "deductions",
            src,
            out / "deductions" / f"deductions_{year}.{ext}",
            fmt,
            "deduction_id",
        )
    counts["deductions"] = n

    # service tickets, visit reports, quotation log, marketing bookings
    activities.service_logs(con, ctx, max(60, total // 40))
    activities.visits(con, ctx, max(40, total // 150))
    activities.quotations(con, ctx, max(40, total // 25))
    activities.marketing(con, ctx, max(20, total // 200))
    for source, table, prefix, col in (
        ("service_logs", "svc", "T", "service_date"),
        ("visit_costs", "vis", "V", "visit_date"),
        ("quotations", "quo", "Q", "quote_date"),
        ("marketing_bookings", "mkt", "M", "booking_date"),
    ):
        n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        id_col = COLUMNS[source][0][0]
        src = f"""SELECT '{prefix}' || lpad(row_number() OVER (ORDER BY {col}, i)::VARCHAR,
                  {max(6, len(str(n)))}, '0') AS {id_col}, * FROM {table}"""
        _write(con, source, src, out / source / f"{source}.{ext}", fmt, id_col)
        counts[source] = n

    # the KAM team's cost budgets: one file per year
    activities.budgets(con, ctx)
    counts["cost_budgets"] = con.execute("SELECT count(*) FROM bud").fetchone()[0]
    for year in range(ctx.start.year, add_months(ctx.end, -1).year + 1):
        _write(
            con,
            "cost_budgets",
            f"SELECT * FROM bud WHERE year = {year}",
            out / "cost_budgets" / f"cost_budgets_{year}.{ext}",
            fmt,
            "account_id, cost_category",
        )

    rates = build_rates(ctx.start, ctx.months, ctx.seed)
    con.register("rates_arrow", rates)
    path = out / "exchange_rates" / f"exchange_rates.{ext}"
    _write(
        con,
        "exchange_rates",
        "SELECT * FROM rates_arrow",
        path,
        fmt,
        "rate_date, from_currency, to_currency",
    )
    counts["exchange_rates"] = rates.num_rows

    # the KAM team's account assessments (plain UTF-8), from the customer-month revenue
    assessments = build_assessments(con, ctx)
    con.register("assessments_arrow", assessments)
    _write(
        con,
        "account_assessments",
        "SELECT * FROM assessments_arrow",
        out / "account_assessments" / f"account_assessments.{ext}",
        fmt,
        "assessment_date, account_id",
    )
    counts["account_assessments"] = assessments.num_rows
    return counts
