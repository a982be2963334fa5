"""Tests for the deterministic demo data generator (orchestration.demo_data)."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.demo_data import generate
from orchestration.demo_data.generate import COLUMNS
from orchestration.sources.contracts import cost_categories

LINES = 5_000
START, END = date(2023, 1, 1), date(2026, 1, 1)
D2 = r"\d{1,3}(\.\d{3})*,\d{2}"  # German: 1.234,56


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, int]]]:
    out = {}
    for name, seed, fmt in (
        ("a", 42, "csv"),
        ("b", 42, "csv"),
        ("c", 43, "csv"),
        ("pq", 42, "parquet"),
    ):
        path = tmp_path_factory.mktemp(name)
        out[name] = (path, generate(path, LINES, seed=seed, fmt=fmt, threads=2))
    return out


@pytest.fixture(scope="module")
def db(runs, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """Views over the CSV output (seed 42), all columns as text, customers transcoded."""
    root = runs["a"][0]
    utf8 = tmp_path_factory.mktemp("utf8") / "customers.csv"
    utf8.write_text((root / "customers" / "customers.csv").read_bytes().decode("cp1252"))
    con = duckdb.connect()
    for source in COLUMNS:
        path = utf8 if source == "customers" else root / source / "*.csv"
        con.execute(
            f"CREATE VIEW {source} AS SELECT * FROM read_csv('{path}', delim=';', "
            "all_varchar=true, header=true)"
        )
    con.execute("CREATE MACRO num(x) AS replace(replace(x, '.', ''), ',', '.')::DECIMAL(18, 3)")
    con.execute("CREATE MACRO rate(x) AS replace(x, ',', '.')::DOUBLE")
    con.execute("CREATE MACRO dt(x) AS strptime(x, '%d.%m.%Y')::DATE")
    return con


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_files_and_row_counts(runs, db):
    root, counts = runs["a"]
    assert set(counts) == set(COLUMNS)
    assert counts["invoice_lines"] == LINES
    months = sorted(p.name for p in (root / "invoice_lines").iterdir())
    assert months[0] == "invoice_lines_2023-01.csv" and months[-1] == "invoice_lines_2025-12.csv"
    assert len(months) == 36
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # work dir removed
    for source, n in counts.items():
        assert _one(db, f"SELECT count(*) FROM {source}") == n, source
    assert counts["service_logs"] >= 60 and counts["visit_costs"] >= 40


def test_deterministic(runs):
    a, b, c = (_files(runs[k][0]) for k in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert (
        a["invoice_lines/invoice_lines_2024-06.csv"] != c["invoice_lines/invoice_lines_2024-06.csv"]
    )
    assert a["customers/customers.csv"] != c["customers/customers.csv"]


def test_csv_format_and_encodings(runs, db):
    root = runs["a"][0]
    for source, cols in COLUMNS.items():
        for path in (root / source).glob("*.csv"):
            raw = path.read_bytes()
            bom = raw.startswith(b"\xef\xbb\xbf")
            assert bom == (source == "invoice_lines"), path
            text = raw.decode("cp1252" if source == "customers" else "utf-8-sig")
            assert text.split("\n", 1)[0] == ";".join(c for c, _ in cols), path
    raw = (root / "customers" / "customers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    for needle in (
        "Zürich",
        "Müller & Söhne GmbH",
        "Société ",
        '"Bösch Werkzeuge AG; Filiale Wil"',
    ):
        assert needle in text
    assert _one(db, "SELECT count(*) FROM customers WHERE customer_name LIKE '%;%'") == 1

    patterns = {"d2": D2, "d3": r"\d{1,3}(\.\d{3})*,\d{3}", "d6": r"\d,\d{6}", "int": r"\d+",
                "date": r"\d{2}\.\d{2}\.\d{4}"}  # fmt: skip
    for source, cols in COLUMNS.items():
        for col, kind in cols:
            if kind in patterns:
                bad = _one(
                    db,
                    f"""SELECT count(*) FROM {source} WHERE {col} IS NOT NULL
                                   AND NOT regexp_full_match({col}, '{patterns[kind]}')""",
                )
                assert bad == 0, (source, col)
    assert _one(db, "SELECT count(*) FROM invoice_lines WHERE unit_price LIKE '%.%,%'") > 0


def test_referential_integrity_and_ranges(db):
    for source in (
        "invoice_lines",
        "deductions",
        "service_logs",
        "visit_costs",
        "quotations",
        "shipments",
        "marketing_bookings",
    ):
        orphans = f"""SELECT count(*) FROM {source}
                      WHERE customer_id NOT IN (SELECT customer_id FROM customers)"""
        assert _one(db, orphans) == 0, source
        if source != "shipments":
            used = {r[0] for r in db.execute(f"SELECT DISTINCT currency FROM {source}").fetchall()}
            assert used <= {"CHF", "EUR", "USD"}, source
    assert _one(db, "SELECT count(DISTINCT customer_id) = count(*) FROM customers")
    # invoice currency is the customer's currency, due date = invoice date + net days
    assert (
        _one(
            db,
            """SELECT count(*) FROM invoice_lines i JOIN customers c USING (customer_id)
                       WHERE i.currency <> c.currency
                          OR dt(i.due_date) <> dt(i.invoice_date) + c.payment_net_days::INT""",
        )
        == 0
    )
    # one EUR->CHF and USD->CHF rate per month, from the month before the start, plus reverse pairs
    rates = db.execute("""
        SELECT from_currency, to_currency, count(*), min(dt(rate_date)), max(dt(rate_date)),
               min(rate(rate)), max(rate(rate))
        FROM exchange_rates GROUP BY ALL""").fetchall()
    by_pair = {(f, t): rest for f, t, *rest in rates}
    assert by_pair[("EUR", "CHF")][:3] == [37, date(2022, 12, 1), date(2025, 12, 1)]
    assert 0.93 <= by_pair[("EUR", "CHF")][3] <= by_pair[("EUR", "CHF")][4] <= 0.98
    assert 0.85 <= by_pair[("USD", "CHF")][3] <= by_pair[("USD", "CHF")][4] <= 0.92
    assert {("CHF", "EUR"), ("CHF", "USD"), ("USD", "EUR"), ("EUR", "USD")} <= by_pair.keys()
    # all event dates inside the range
    for source, col in (("invoice_lines", "invoice_date"), ("invoice_lines", "payment_date"),
                        ("deductions", "booking_date"), ("deductions", "period_start"),
                        ("deductions", "period_end"), ("service_logs", "service_date"),
                        ("visit_costs", "visit_date"), ("quotations", "quote_date"),
                        ("shipments", "ship_date"), ("marketing_bookings", "booking_date")):  # fmt: skip
        lo, hi = db.execute(f"SELECT min(dt({col})), max(dt({col})) FROM {source}").fetchone()
        assert lo >= START and hi < END, (source, col)
    # no invoices before a new customer's start
    assert (
        _one(
            db,
            """SELECT count(*) FROM invoice_lines i JOIN customers c USING (customer_id)
                       WHERE dt(i.invoice_date) <= dt(c.customer_since)""",
        )
        == 0
    )


def test_documents_and_payments(db):
    docs = db.execute("""
        SELECT document_type, count(*), min(n), max(n), bool_and(ok) FROM (
            SELECT invoice_number, document_type, count(*) AS n,
                   list_sort(list(line_number::INT)) = range(1, count(*) + 1) AS ok
            FROM invoice_lines GROUP BY ALL) GROUP BY ALL ORDER BY 1""").fetchall()
    (cn, n_cn, *_), (inv, n_inv, lo, hi, contiguous) = docs
    assert (cn, inv) == ("credit_note", "invoice")
    assert 0.01 < n_cn / (n_cn + n_inv) < 0.06
    assert lo == 1 and hi <= 10 and contiguous
    assert (
        _one(
            db,
            """SELECT count(*) FROM invoice_lines WHERE num(quantity) <= 0
                       OR num(unit_price) <= 0 OR num(standard_cost_per_unit) <= 0
                       OR invoice_number[1] <> (CASE document_type
                                                WHEN 'invoice' THEN 'R' ELSE 'G' END)""",
        )
        == 0
    )
    assert _one(db, "SELECT count(DISTINCT currency) FROM invoice_lines") == 3
    assert (
        0.5
        < _one(
            db, "SELECT median(num(standard_cost_per_unit) / num(unit_price)) FROM invoice_lines"
        )
        < 0.8
    )
    unpaid_recent, unpaid_old = db.execute("""
        SELECT avg((payment_date IS NULL)::INT) FILTER (dt(invoice_date) >= DATE '2025-11-01'),
               avg((payment_date IS NULL)::INT) FILTER (dt(invoice_date) < DATE '2025-06-01')
        FROM invoice_lines WHERE document_type = 'invoice'""").fetchone()
    assert unpaid_recent > 0.2 and unpaid_old < 0.02
    late = """SELECT count(*) FROM (SELECT customer_id FROM invoice_lines
              WHERE payment_date IS NOT NULL
              GROUP BY 1 HAVING median(dt(payment_date) - dt(due_date)) >= 10)"""
    assert _one(db, late) >= 1


def test_deductions(db):
    types = dict(
        db.execute("SELECT deduction_type, count(*) FROM deductions GROUP BY 1").fetchall()
    )
    assert types.keys() <= {"bonus", "cash_discount", "rebate", "promotion"}
    assert types["bonus"] > 0 and types["cash_discount"] > 0 and types["rebate"] > 0
    assert _one(db, "SELECT count(*) FROM deductions WHERE num(amount) <= 0") == 0
    # bonuses refer to a calendar year, booked at year end or in January of the next year
    bad = """SELECT count(*) FROM deductions WHERE deduction_type = 'bonus' AND NOT (
                 period_start[1:6] = '01.01.' AND period_end[1:6] = '31.12.'
                 AND period_start[7:] = period_end[7:]
                 AND dt(booking_date) BETWEEN dt(period_end) AND dt(period_end) + 31)"""
    assert _one(db, bad) == 0
    assert (
        _one(
            db,
            """SELECT count(*) FROM deductions WHERE (deduction_type IN ('bonus', 'rebate'))
                       <> (period_start IS NOT NULL AND period_end IS NOT NULL)""",
        )
        == 0
    )
    assert (
        _one(
            db,
            """SELECT count(*) FROM deductions WHERE (deduction_type = 'cash_discount')
                       <> (invoice_number IS NOT NULL)""",
        )
        == 0
    )
    # cash discount = invoice total * pct, booked on the payment date, paid within the discount days
    rows = db.execute("""
        SELECT d.amount, sum(num(i.quantity) * num(i.unit_price)), num(c.cash_discount_pct),
               bool_and(d.booking_date = i.payment_date AND d.currency = i.currency
                        AND dt(i.payment_date) - dt(i.invoice_date) <= c.cash_discount_days::INT)
        FROM deductions d JOIN invoice_lines i USING (invoice_number) JOIN customers c
          ON c.customer_id = i.customer_id
        WHERE d.deduction_type = 'cash_discount'
        GROUP BY d.deduction_id, d.amount, c.cash_discount_pct
    """).fetchall()
    assert len(rows) == types["cash_discount"]
    for amount, total, pct, ok in rows:
        expected = (total * pct / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert ok and amount == f"{expected:,.2f}".translate(str.maketrans(",.", ".,"))
    # every invoice paid within the discount days got its cash discount
    missing = """SELECT count(*) FROM (SELECT invoice_number,
                 min(dt(payment_date) - dt(invoice_date)) AS days,
                 any_value(customer_id) AS customer_id FROM invoice_lines
                 WHERE document_type = 'invoice' AND payment_date IS NOT NULL GROUP BY 1) i
                 JOIN customers c USING (customer_id)
                 WHERE num(c.cash_discount_pct) > 0 AND i.days <= c.cash_discount_days::INT
                   AND invoice_number NOT IN (SELECT invoice_number FROM deductions
                                              WHERE invoice_number IS NOT NULL)"""
    assert _one(db, missing) == 0


def test_customers_and_costs(db):
    cur = dict(db.execute("SELECT currency, count(*) FROM customers GROUP BY 1").fetchall())
    assert set(cur) == {"CHF", "EUR", "USD"}
    groups = db.execute("""
        SELECT count(*) FILTER (n >= 3), count(*) FILTER (n = 1 AND gid IS NULL)
        FROM (SELECT coalesce(customer_group_id, customer_id) AS key,
                     any_value(customer_group_id) AS gid, count(*) AS n
              FROM customers GROUP BY 1)""").fetchone()
    assert groups[0] >= 5 and groups[1] > 10
    assert (
        _one(
            db,
            """SELECT count(*) FROM customers
               WHERE (customer_group_id IS NULL) <> (customer_group_name IS NULL)""",
        )
        == 0
    )
    assert (
        _one(db, "SELECT count(*) FROM customers WHERE dt(customer_since) >= DATE '2023-01-01'") > 0
    )
    assert (
        _one(
            db,
            """SELECT count(*) FROM customers
               WHERE payment_net_days NOT IN ('10', '30', '45', '60', '90')""",
        )
        == 0
    )
    allowed = {
        "complaint_goodwill",
        "training",
        "documentation",
        "product_modification",
        "project_studies",
        "consulting_and_visits",
        "presentations",
        "sales_promotion",
        "account_development",
        "logistics",
    }
    cats = {r[0] for r in db.execute("SELECT DISTINCT cost_category FROM service_logs").fetchall()}
    assert cats <= allowed and len(cats) >= 8
    spike = """SELECT max(n) FROM (
                   SELECT customer_id, service_date[4:], count(*) AS n FROM service_logs
                   WHERE cost_category = 'complaint_goodwill' AND num(material_amount) > 0
                   GROUP BY ALL)"""
    assert _one(db, spike) >= 8
    assert _one(
        db, "SELECT min(num(hourly_rate)) >= 85 AND max(num(hourly_rate)) <= 140 FROM service_logs"
    )


def test_cost_driver_sources(db):
    """Shipments, the quotation log, marketing bookings and budgets feed the categories that
    service tickets and visits do not: with them every cost category has a source."""
    # every invoice was shipped, on or before its date; some in two parts, some express
    ship = db.execute("""
        SELECT count(DISTINCT s.invoice_number), count(*), count(*) FILTER
                   (s.service_level = 'express'), min(num(s.weight_kg)),
               count(*) FILTER (dt(s.ship_date) > dt(i.invoice_date)),
               count(*) FILTER (s.customer_id <> i.customer_id)
        FROM shipments s JOIN (SELECT DISTINCT invoice_number, invoice_date, customer_id
                               FROM invoice_lines) i USING (invoice_number)""").fetchone()
    invoices = _one(
        db,
        "SELECT count(DISTINCT invoice_number) FROM invoice_lines WHERE document_type = 'invoice'",
    )
    assert ship[0] == invoices and invoices < ship[1] < 1.3 * invoices
    assert 0 < ship[2] < 0.2 * ship[1] and ship[3] > 0 and ship[4] == 0 and ship[5] == 0
    quotes = dict(db.execute("SELECT quote_type, count(*) FROM quotations GROUP BY 1").fetchall())
    assert quotes.keys() == {"quote", "tender"} and quotes["tender"] < quotes["quote"]
    assert _one(db, "SELECT min(num(hours)) > 0 FROM quotations")
    marketing = {
        r[0] for r in db.execute("SELECT DISTINCT cost_category FROM marketing_bookings").fetchall()
    }
    assert marketing == {"sales_promotion", "presentations", "account_development"}
    fed = marketing | {
        r[0] for r in db.execute("SELECT DISTINCT cost_category FROM service_logs").fetchall()
    }
    fed |= {"quotation_preparation", "tender_documents", "order_processing", "logistics"}
    fed |= {"financing"}  # invoices: receivables from invoice to payment date
    assert fed == set(cost_categories())
    # budgets name accounts (groups, or standalone customers) with valid categories and years
    unknown = """SELECT count(*) FROM cost_budgets WHERE account_id NOT IN (
                     SELECT coalesce(customer_group_id, customer_id) FROM customers)"""
    assert _one(db, unknown) == 0
    assert {r[0] for r in db.execute("SELECT DISTINCT year FROM cost_budgets").fetchall()} == {
        "2023",
        "2024",
        "2025",
    }
    assert _one(db, "SELECT count(DISTINCT cost_category) FROM cost_budgets") == 14
    assert _one(db, "SELECT count(*) FROM cost_budgets WHERE account_id LIKE 'G%'") > 0


def test_parquet_matches_csv(runs, db):
    root, counts = runs["pq"]
    assert counts == runs["a"][1]
    assert not list(root.rglob("*.csv"))
    con = duckdb.connect()
    lines = f"read_parquet('{root}/invoice_lines/*.parquet')"
    types = dict(
        con.execute(
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {lines})"
        ).fetchall()
    )
    assert types["invoice_date"] == "DATE" and types["line_number"] == "INTEGER"
    assert types["unit_price"].startswith("DECIMAL") and types["payment_date"] == "DATE"
    total = _one(con, f"SELECT sum(quantity * unit_price) FROM {lines}")
    assert total == _one(db, "SELECT sum(num(quantity) * num(unit_price)) FROM invoice_lines")
    names = f"SELECT customer_name FROM '{root}/customers/customers.parquet' ORDER BY customer_id"
    assert (
        con.execute(names).fetchall()
        == db.execute("SELECT customer_name FROM customers").fetchall()
    )


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, 100, fmt="xlsx")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        generate(tmp_path, 100, start=date(2023, 1, 15))
    with pytest.raises(ValueError):
        generate(tmp_path, 0)


def test_small_ranges_and_other_start(tmp_path):
    counts = generate(tmp_path, 300, start=date(2024, 7, 1), months=3, seed=1)
    assert counts["invoice_lines"] == 300
    files = sorted(p.name for p in (tmp_path / "invoice_lines").iterdir())
    assert files == [f"invoice_lines_2024-{m:02d}.csv" for m in (7, 8, 9)]
    lines = f"read_csv('{tmp_path}/invoice_lines/*.csv', delim=';', all_varchar=true)"
    sql = f"SELECT count(*) FROM {lines}"
    assert _one(duckdb.connect(), sql) == 300
    assert re.search(
        r"\d{2}\.0[6-9]\.2024", (tmp_path / "exchange_rates" / "exchange_rates.csv").read_text()
    )
