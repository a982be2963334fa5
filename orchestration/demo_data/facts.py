"""SQL that generates the big fact tables inside DuckDB from hash-based pseudo-random numbers.

Every random number is ``U(tag, keys...)``: a uniform [0, 1) value derived from
``hash(seed, tag, keys...)``, so any row can be (re)computed independently of thread
scheduling or chunking.  Weights are integers so that running sums are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb


@dataclass(frozen=True)
class Ctx:
    seed: int
    start: date
    end: date  # exclusive
    months: int
    n_products: int


def U(ctx: Ctx, tag: int, *keys: str) -> str:
    # DuckDB combines multi-argument hashes weakly (values for neighbouring tags correlate),
    # so the combined hash is hashed once more (a full 64-bit mix) before use.
    key = ", ".join(keys)
    return f"((hash(hash({ctx.seed}, {tag}, {key})) >> 11)::DOUBLE / 9007199254740992.0)"


def normal(ctx: Ctx, tag: int, *keys: str) -> str:
    """Standard normal via Box-Muller."""
    u1, u2 = U(ctx, tag, *keys), U(ctx, tag + 1000, *keys)
    return f"(sqrt(-2 * ln(1 - {u1})) * cos(2 * pi() * {u2}))"


def setup(con: duckdb.DuckDBPyConnection, ctx: Ctx, spikes: list) -> None:
    """Create products, customers (typed), month-level customer weights (cm) and helpers."""
    con.execute("""
        CREATE MACRO workday(d) AS CASE
            WHEN isodow(d) = 6 THEN CASE WHEN day(d) > 1 THEN d - 1 ELSE d + 2 END
            WHEN isodow(d) = 7 THEN CASE WHEN day(d) > 2 THEN d - 2 ELSE d + 1 END
            ELSE d END
    """)
    con.execute(f"""
        CREATE TABLE months AS
        SELECT m, ms::DATE AS ms, (ms + INTERVAL 1 MONTH)::DATE AS me,
               datediff('day', ms, ms + INTERVAL 1 MONTH)::INT AS ndays, year(ms)::INT AS yr
        FROM (SELECT m, DATE '{ctx.start}' + to_months(m::INT) AS ms FROM range({ctx.months}) t(m))
    """)
    con.execute(f"""
        CREATE TABLE products AS
        SELECT p AS pidx, 'P' || lpad((p + 1)::VARCHAR, 4, '0') AS product_id,
               exp(ln(3) + {U(ctx, 1, "p")} * ln(500)) AS list_chf,
               0.50 + 0.18 * {U(ctx, 2, "p")} AS cost_ratio,
               {U(ctx, 3, "p")} < 0.2 AS fractional
        FROM range({ctx.n_products}) t(p)
    """)
    # gross weight per unit: heavier parts are dearer, 0.02-0.22 kg per CHF of list price
    con.execute(f"""
        ALTER TABLE products ADD COLUMN kg_per_unit DOUBLE;
        UPDATE products SET kg_per_unit = list_chf * (0.02 + 0.2 * {U(ctx, 4, "pidx")})
    """)
    con.execute("""
        CREATE TABLE customers AS
        SELECT * REPLACE (cash_discount_pct::DECIMAL(5, 2) AS cash_discount_pct,
            cidx::INT AS cidx, payment_net_days::INT AS payment_net_days,
            cash_discount_days::INT AS cash_discount_days, late_mean::INT AS late_mean,
            first_m::INT AS first_m, churn_m::INT AS churn_m, spike_m::INT AS spike_m,
            emp::INT AS emp, prod_off::INT AS prod_off, pay_profile::INT AS pay_profile)
        FROM customers_arrow
    """)
    growth = "exp(c.growth * mo.m / 12.0)"
    ramp = "CASE WHEN c.first_m > 0 AND mo.m - c.first_m < 3 THEN 0.25 * (1 + mo.m - c.first_m) END"
    slump = """CASE WHEN c.churn_m - mo.m <= 6 THEN 0.3 + 0.1 * (c.churn_m - mo.m)
                     WHEN mo.m > c.spike_m AND mo.m <= c.spike_m + 6 THEN 0.65 END"""
    con.execute(f"""
        CREATE TABLE cm AS
        WITH b AS (
            SELECT c.cidx, mo.m,
                greatest(1, round(c.w_sales * {growth} * coalesce({ramp}, 1) * coalesce({slump}, 1)
                    * (0.7 + 0.6 * {U(ctx, 10, "c.cidx", "mo.m")})))::BIGINT AS ws,
                greatest(1, round(c.w_service * (0.7 + 0.6 * {U(ctx, 11, "c.cidx", "mo.m")})
                    ))::BIGINT AS wsv,
                greatest(1, round(c.w_visit * (0.7 + 0.6 * {U(ctx, 12, "c.cidx", "mo.m")})
                    ))::BIGINT AS wv
            FROM customers c JOIN months mo
              ON mo.m >= c.first_m AND (c.churn_m IS NULL OR mo.m < c.churn_m)
        )
        SELECT *, sum(ws) OVER w - ws AS lo_s, sum(wsv) OVER w - wsv AS lo_sv,
                  sum(wv) OVER w - wv AS lo_v
        FROM b WINDOW w AS (PARTITION BY m ORDER BY cidx ROWS UNBOUNDED PRECEDING)
    """)
    con.execute("""
        CREATE TABLE cm_tot AS SELECT m, sum(ws)::BIGINT AS tot_s, sum(wsv)::BIGINT AS tot_sv,
            sum(wv)::BIGINT AS tot_v FROM cm GROUP BY m
    """)
    con.execute("CREATE TABLE spikes (cidx INT, m INT, factor DOUBLE)")
    if spikes:
        con.executemany("INSERT INTO spikes VALUES (?, ?, ?)", spikes)
    con.execute("CREATE TABLE cm_rev (cidx INT, m INT, rev DECIMAL(38, 5))")
    # operations per customer-month (drivers of order processing and logistics), for budgets
    con.execute("""
        CREATE TABLE cm_ops (cidx INT, m INT, orders BIGINT, order_lines BIGINT,
            credit_notes BIGINT, shipments BIGINT, express BIGINT, kg DOUBLE)
    """)
    con.execute("""
        CREATE TABLE ded (cidx INT, booking_date DATE, deduction_type VARCHAR,
            amount DECIMAL(18, 2), currency VARCHAR, invoice_number VARCHAR,
            period_start DATE, period_end DATE)
    """)


def invoice_month(
    con: duckdb.DuckDBPyConnection,
    ctx: Ctx,
    m: int,
    n_lines: int,
    offsets: tuple[int, int],
    width: int,
    candidates: int,
) -> tuple[int, int, int]:
    """Create temp tables ``inv`` and ``lines`` for month m with exactly n_lines lines.

    Returns (invoices, credit notes, lines) of the month; lines < n_lines means too few
    candidate documents were drawn (the caller retries with more).
    """
    ms, ndays, yr = con.execute(f"SELECT ms, ndays, yr FROM months WHERE m = {m}").fetchone()
    tot = con.execute(f"SELECT tot_s FROM cm_tot WHERE m = {m}").fetchone()[0]
    u = lambda tag, *k: U(ctx, tag, str(m), *k)  # noqa: E731
    off_inv, off_cn = offsets
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE inv AS
        WITH cand AS (
            SELECT k, floor({u(20, "k")} * {tot})::BIGINT AS tgt FROM range({candidates}) t(k)
        ), d AS (
            SELECT cand.k, c.*,
                ({u(21, "k")} < 0.03 AND {m} > c.first_m) AS is_cn,
                workday(DATE '{ms}' + floor({u(22, "k")} * {ndays})::INT) AS invoice_date
            FROM cand ASOF JOIN (SELECT cidx, lo_s FROM cm WHERE m = {m}) w ON cand.tgt >= w.lo_s
            JOIN customers c ON c.cidx = w.cidx
        ), n AS (
            SELECT *, (CASE WHEN is_cn THEN 1 + floor(3 * pow({u(23, "k")}, 2))
                            ELSE 1 + floor(10 * pow({u(23, "k")}, 1.8)) END)::INT AS nl_raw
            FROM d
        ), w AS (
            SELECT *, sum(nl_raw) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) - nl_raw AS first_line
            FROM n
        ), x AS (
            SELECT *, least(nl_raw, {n_lines} - first_line)::INT AS nl,
                row_number() OVER (PARTITION BY is_cn ORDER BY invoice_date, k) AS seq,
                CASE
                    WHEN is_cn THEN payment_net_days
                    WHEN {u(24, "k")} < 0.003 THEN NULL  -- disputed, never paid
                    WHEN pay_profile = 1 AND {u(25, "k")} < 0.9
                        THEN 2 + floor({u(26, "k")} * (cash_discount_days - 1))
                    WHEN pay_profile = 2 THEN payment_net_days
                        + greatest(10, least(90, late_mean - 8 + floor(17 * {u(26, "k")})))
                    WHEN {u(25, "k")} < 0.08 THEN payment_net_days + 5 + floor(26 * {u(26, "k")})
                    ELSE payment_net_days - 5 + floor(9 * {u(26, "k")})
                END::INT AS pay_days
            FROM w WHERE first_line < {n_lines}
        )
        SELECT x.* EXCLUDE (pay_days, seq),
            (CASE WHEN is_cn THEN 'G' ELSE 'R' END) || '{yr}'
                || lpad((seq + CASE WHEN is_cn THEN {off_cn} ELSE {off_inv} END)::VARCHAR,
                        {width}, '0') AS invoice_number,
            invoice_date + payment_net_days AS due_date,
            CASE WHEN workday(invoice_date + pay_days) < DATE '{ctx.end}'
                THEN workday(invoice_date + pay_days) END AS payment_date
        FROM x
    """)
    n_inv, n_cn, lines = con.execute(
        "SELECT count(*) FILTER (NOT is_cn), count(*) FILTER (is_cn), coalesce(sum(nl), 0) FROM inv"
    ).fetchone()
    if lines < n_lines:
        return n_inv, n_cn, lines
    lu = lambda tag: u(tag, "k", "line_number")  # noqa: E731
    q = f"600 / p.list_chf * y.qty_mult * exp(0.7 * {normal(ctx, 31, str(m), 'k', 'line_number')})"
    yi = f"({yr} - {ctx.start.year})"
    cn_share = "(CASE WHEN is_cn THEN 0.3 ELSE 1 END)"  # credit notes return part of a delivery
    cust_price = U(ctx, 32, "y.cidx", "y.pidx")  # customer-specific price per product
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lines AS
        WITH x AS (SELECT inv.*, unnest(range(1, nl + 1)) AS line_number FROM inv),
        y AS (
            SELECT x.*, ((prod_off + floor({ctx.n_products} * pow({lu(30)}, 2)))::BIGINT
                         % {ctx.n_products})::INT AS pidx
            FROM x
        )
        SELECT y.*, p.product_id,
            (CASE WHEN p.fractional THEN greatest(0.1, round({q} * {cn_share}, 3))
                  ELSE greatest(1, round({q} * {cn_share})) END)::DECIMAL(18, 3) AS quantity,
            greatest(0.05, round(p.list_chf * pow(1.03, {yi}) * (1 - y.disc) / y.fx
                * (0.98 + 0.04 * {cust_price}), 2))::DECIMAL(18, 2) AS unit_price,
            greatest(0.01, round(p.list_chf * p.cost_ratio * pow(1.02, {yi}) / y.fx, 2)
                )::DECIMAL(18, 2) AS standard_cost_per_unit
        FROM y JOIN products p USING (pidx)
    """)
    con.execute(f"""
        INSERT INTO cm_rev SELECT cidx, {m},
            sum(CASE WHEN is_cn THEN -1 ELSE 1 END * quantity * unit_price)
        FROM lines GROUP BY cidx
    """)
    con.execute(f"""
        INSERT INTO cm_ops SELECT cidx, {m}, count(DISTINCT invoice_number) FILTER (NOT is_cn),
            count(*) FILTER (NOT is_cn), count(DISTINCT invoice_number) FILTER (is_cn), 0, 0, 0
        FROM lines GROUP BY cidx
    """)
    con.execute("""
        INSERT INTO ded
        SELECT cidx, payment_date, 'cash_discount', amount, currency, invoice_number, NULL, NULL
        FROM (
            SELECT cidx, payment_date, currency, invoice_number,
                round(sum(quantity * unit_price)::DECIMAL(20, 5) * cash_discount_pct * 0.01, 2)
                    ::DECIMAL(18, 2) AS amount
            FROM lines
            WHERE NOT is_cn AND cash_discount_pct > 0
              AND payment_date - invoice_date <= cash_discount_days
            GROUP BY cidx, payment_date, currency, invoice_number, cash_discount_pct
        ) WHERE amount > 0
    """)
    return n_inv, n_cn, lines


CARRIERS = {
    "CHF": "['Planzer', 'Galliker', 'Post CH Cargo', 'Camion Transport']",
    "EUR": "['Dachser', 'DB Schenker', 'DHL Freight', 'Rhenus']",
    "USD": "['Kuehne+Nagel', 'DHL Global Forwarding', 'Expeditors']",
}


def shipments_month(
    con: duckdb.DuckDBPyConnection, ctx: Ctx, m: int, offset: int, width: int
) -> int:
    """Create temp table ``ship``: the deliveries of month m's invoices (after invoice_month).

    One shipment per invoice; 12 % of multi-line invoices were delivered in two parts (the first
    half of the lines a week earlier). Express for 4 % (25 % for high-maintenance accounts).
    Weight = quantity x the product's kg per unit. Returns the number of shipments.
    """
    yr = con.execute(f"SELECT yr FROM months WHERE m = {m}").fetchone()[0]
    u = lambda tag, *k: U(ctx, tag, str(m), *k)  # noqa: E731
    carrier = " ".join(
        f"WHEN '{c}' THEN list_element({lst}, 1 + floor(len({lst}) * {u(37, 'k')})::INT)"
        for c, lst in CARRIERS.items()
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ship AS
        WITH docs AS (
            SELECT k, cidx, customer_id, currency, hm, invoice_number, invoice_date, nl,
                CASE WHEN nl >= 2 AND {u(33, "k")} < 0.12 THEN 2 ELSE 1 END AS parts
            FROM inv WHERE NOT is_cn
        ), w AS (
            SELECT l.k,
                CASE WHEN d.parts = 2 AND l.line_number > (d.nl + 1) // 2 THEN 2 ELSE 1 END
                    AS part,
                sum(l.quantity * p.kg_per_unit) AS kg
            FROM lines l JOIN docs d USING (k) JOIN products p USING (pidx)
            GROUP BY ALL
        ), x AS (
            SELECT d.*, w.part, w.kg,
                greatest(DATE '{ctx.start}', workday(d.invoice_date - CASE
                    WHEN d.parts = 1 THEN 1 + floor(3 * {u(34, "k")})
                    WHEN w.part = 1 THEN 6 + floor(5 * {u(34, "k")})
                    ELSE floor(2 * {u(35, "k")}) END::INT)) AS ship_date,
                {u(36, "k", "w.part")} < (CASE WHEN d.hm THEN 0.25 ELSE 0.04 END) AS express
            FROM docs d JOIN w USING (k)
        )
        SELECT *,
            'L' || '{yr}' || lpad((row_number() OVER (ORDER BY invoice_date, k, part) + {offset})
                ::VARCHAR, {width}, '0') AS shipment_id,
            CASE WHEN express THEN 'express' ELSE 'standard' END AS service_level,
            greatest(1, ceil(kg / 40))::INT AS packages,
            greatest(0.1, round(kg, 1))::DECIMAL(12, 1) AS weight_kg,
            CASE WHEN express THEN CASE WHEN {u(38, "k")} < 0.5 THEN 'DHL Express' ELSE 'TNT Express' END
                 ELSE CASE currency {carrier} END END AS carrier
        FROM x
    """)
    con.execute(f"""
        UPDATE cm_ops o SET shipments = s.n, express = s.e, kg = s.kg
        FROM (SELECT cidx, count(*) AS n, count(*) FILTER (express) AS e, sum(weight_kg) AS kg
              FROM ship GROUP BY cidx) s
        WHERE o.cidx = s.cidx AND o.m = {m}
    """)
    return con.execute("SELECT count(*) FROM ship").fetchone()[0]


def period_deductions(con: duckdb.DuckDBPyConnection, ctx: Ctx) -> None:
    """Year-end bonuses, quarterly rebates and promotions from the customer-month revenue."""
    s, e = f"DATE '{ctx.start}'", f"DATE '{ctx.end}'"
    rev = (
        "(SELECT r.cidx, mo.*, r.rev::DECIMAL(20, 5) AS rev FROM cm_rev r JOIN months mo USING (m))"
    )
    jan = f"make_date(r.yr + 1, 1, 10 + floor(20 * {U(ctx, 41, 'r.cidx', 'r.yr')})::INT)"
    con.execute(f"""
        INSERT INTO ded
        SELECT r.cidx,
            CASE WHEN {U(ctx, 40, "r.cidx", "r.yr")} < 0.5 AND make_date(r.yr + 1, 1, 31) < {e}
                THEN workday({jan})
                ELSE make_date(r.yr, 12, 31) END,
            'bonus', round(r.rev * c.bonus_pct::DECIMAL(5, 2) * 0.01, 2), c.currency, NULL,
            greatest(make_date(r.yr, 1, 1), {s}), make_date(r.yr, 12, 31)
        FROM (SELECT cidx, yr, sum(rev) AS rev FROM {rev} GROUP BY ALL) r
        JOIN customers c USING (cidx)
        WHERE c.bonus_pct > 0 AND r.rev > 0 AND make_date(r.yr, 12, 31) < {e}
    """)
    con.execute(f"""
        INSERT INTO ded
        SELECT r.cidx,
            CASE WHEN r.qe + 20 < {e}
                THEN workday(r.qe + 5 + floor(15 * {U(ctx, 42, "r.cidx", "r.qe")})::INT)
                ELSE r.qe END,
            'rebate', round(r.rev * c.rebate_pct::DECIMAL(5, 2) * 0.01, 2), c.currency, NULL,
            greatest(r.qs, {s}), r.qe
        FROM (
            SELECT cidx, qs, (qs + INTERVAL 3 MONTH)::DATE - 1 AS qe, sum(rev) AS rev
            FROM (SELECT *, make_date(yr, (month(ms) - 1) // 3 * 3 + 1, 1) AS qs FROM {rev})
            GROUP BY ALL
        ) r JOIN customers c USING (cidx)
        WHERE c.rebate_pct > 0 AND r.rev > 0 AND r.qe < {e}
    """)
    con.execute(f"""
        INSERT INTO ded
        SELECT r.cidx, workday(r.ms + 9 + floor(15 * {U(ctx, 43, "r.cidx", "r.m")})::INT),
            'promotion',
            round(r.rev * (0.02 + 0.05 * {U(ctx, 44, "r.cidx", "r.m")})::DECIMAL(6, 5), 2),
            c.currency, NULL, NULL, NULL
        FROM {rev} r JOIN customers c USING (cidx)
        WHERE r.rev > 0 AND {U(ctx, 45, "r.cidx", "r.m")} < 0.025
    """)
