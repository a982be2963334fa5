"""Cost-to-serve sources, generated in DuckDB: service tickets, visit reports, marketing bookings
(direct costs), the quotation log (driver of quotation and tender costs) and the KAM team's cost
budgets. Quotes and tenders live in the quotation log only (priced by the activity catalogue),
not in the service tickets."""

from __future__ import annotations

import duckdb

from orchestration.demo_data.facts import Ctx, U

# fmt: off
# name, weight, weight for high-maintenance accounts, max hours, material prob, material max
CATEGORIES = [
    ("complaint_goodwill", 8, 25, 6, 0.7, 2500,
     "Reklamation Lieferung, Kulanzgutschrift|Reklamation Maßabweichung"
     "|Ersatzlieferung auf Kulanz"),
    ("training", 6, 4, 16, 0.2, 300, "Anwenderschulung vor Ort|Produktschulung Vertrieb Kunde"),
    ("documentation", 10, 8, 8, 0.0, 0,
     "Prüfzeugnisse 3.1 erstellt|Konformitätserklärung|Technisches Datenblatt angepasst"),
    ("product_modification", 7, 10, 24, 0.5, 4000,
     "Sonderausführung Bohrbild|Anpassung Verpackung|Musterbau Variante"),
    ("project_studies", 5, 6, 40, 0.1, 1500, "Machbarkeitsstudie|Projektstudie Neuentwicklung"),
    ("consulting_and_visits", 12, 12, 8, 0.0, 0,
     "Technische Beratung telefonisch|Anwendungsberatung"),
    ("presentations", 5, 3, 6, 0.3, 500, "Produktpräsentation erstellt|Präsentation Neuheiten"),
    ("sales_promotion", 6, 3, 6, 0.4, 2000,
     "Messeunterstützung|Werbematerial geliefert|Musterpaket"),
    ("account_development", 7, 2, 10, 0.0, 0,
     "Account-Plan aktualisiert|Strategiegespräch vorbereitet"),
    ("logistics", 12, 7, 3, 0.8, 800,
     "Expresslieferung|Teillieferung mit Zusatzfracht|Sonderverpackung Export"),
]
CH_TEAM = ["Thomas Brunner", "Sandra Keller", "Luca Bernasconi", "Céline Favre", "Reto Zürcher",
           "Nadine Hüsler"]
DE_TEAM = ["Jürgen Weiß", "Katrin Schäfer", "Markus Hölzl", "Anja Groß"]
PURPOSES = [("Quartalsgespräch", 25), ("Jahresgespräch", 8), ("Reklamation", 12),
            ("Projektbesprechung", 15), ("Produktpräsentation", 12), ("Schulung vor Ort", 6),
            ("Preisverhandlung", 8), ("Messe-Nachbereitung", 5), ("Werksbesichtigung", 4)]
# fmt: on


def _lit(values: list) -> str:
    """A DuckDB list literal."""
    items = [
        f"'{v.replace(chr(39), chr(39) * 2)}'" if isinstance(v, str) else str(v) for v in values
    ]
    return "[" + ", ".join(items) + "]"


def _bag(weights: list[int]) -> str:
    """Literal list of 1-based indices where index i appears weights[i] times."""
    return _lit([i + 1 for i, w in enumerate(weights) for _ in range(w)])


def _draw(ctx: Ctx, bag: str, tag: int, key: str) -> str:
    return f"list_element({bag}, 1 + floor(len({bag}) * {U(ctx, tag, key)})::INT)"


def service_logs(con: duckdb.DuckDBPyConnection, ctx: Ctx, rows: int) -> None:
    """Create table ``svc``: ~rows tickets spread over active customers plus complaint spikes."""
    con.execute("""CREATE TABLE svc_cat (cat INT, name VARCHAR, maxh DOUBLE, mat_p DOUBLE,
                   mat_max DOUBLE, descs VARCHAR[])""")
    con.executemany(
        "INSERT INTO svc_cat VALUES (?, ?, ?, ?, ?, ?)",
        [(i + 1, n, h, p, mx, d.split("|")) for i, (n, _, _, h, p, mx, d) in enumerate(CATEGORIES)],
    )
    bag, bag_hm = _bag([c[1] for c in CATEGORIES]), _bag([c[2] for c in CATEGORIES])
    S, M = rows, ctx.months
    u = lambda tag: U(ctx, tag, "x.i")  # noqa: E731
    con.execute(f"""
        CREATE TABLE svc AS
        WITH b AS (
            SELECT i, (i * {M} // {S})::INT AS m, floor({U(ctx, 50, "i")} * t.tot_sv)::BIGINT AS tgt
            FROM range({S}) r(i) JOIN cm_tot t ON t.m = (i * {M} // {S})::INT
        ), sp AS (
            SELECT s.cidx, s.m, unnest(range(
                round(s.factor * (8 + 4 * {S} / {M} * w.wsv / t.tot_sv))::BIGINT)) AS r
            FROM spikes s JOIN cm w USING (cidx, m) JOIN cm_tot t USING (m)
        ), a AS (
            SELECT b.i, b.m, w.cidx, false AS spike
            FROM b ASOF JOIN cm w ON b.m = w.m AND b.tgt >= w.lo_sv
            UNION ALL
            SELECT {S} - 1 + row_number() OVER (ORDER BY cidx, m, r), m, cidx, true FROM sp
        ), x AS (
            SELECT a.*, c.customer_id, c.currency AS ccy, mo.ms, mo.ndays,
                CASE WHEN a.spike THEN 1 WHEN c.hm THEN {_draw(ctx, bag_hm, 51, "a.i")}
                     ELSE {_draw(ctx, bag, 51, "a.i")} END AS cat
            FROM a JOIN customers c USING (cidx) JOIN months mo USING (m)
        )
        SELECT x.i, x.customer_id,
            workday(x.ms + floor({u(52)} * x.ndays)::INT) AS service_date,
            k.name AS cost_category,
            (round((0.25 + k.maxh * pow({u(53)}, 1.5)) * 4) / 4)::DECIMAL(18, 2) AS hours,
            (85 + 5 * floor(12 * {u(54)}))::DECIMAL(18, 2) AS hourly_rate,
            (CASE WHEN x.spike OR {u(55)} < k.mat_p
                THEN round((20 + k.mat_max * pow({u(56)}, 2))
                           * (CASE WHEN x.spike THEN 1.5 ELSE 1 END), 2)
                ELSE 0 END)::DECIMAL(18, 2) AS material_amount,
            CASE WHEN x.ccy = 'EUR' THEN 'EUR' ELSE 'CHF' END AS currency,
            list_element(k.descs, 1 + floor(len(k.descs) * {u(57)})::INT) AS description
        FROM x JOIN svc_cat k USING (cat)
    """)


def visits(con: duckdb.DuckDBPyConnection, ctx: Ctx, rows: int) -> None:
    """Create table ``vis``: visit reports, key accounts and high-maintenance accounts favoured."""
    V, M = rows, ctx.months
    u = lambda tag: U(ctx, tag, "x.i")  # noqa: E731
    purposes = _lit([p for p, _ in PURPOSES])
    team = f"CASE WHEN x.ccy = 'EUR' THEN {_lit(DE_TEAM)} ELSE {_lit(CH_TEAM)} END"
    emp = f"CASE WHEN {u(61)} < 0.8 THEN x.emp ELSE floor(12 * {u(62)})::INT END"
    purpose = _draw(ctx, _bag([w for _, w in PURPOSES]), 65, "x.i")
    con.execute(f"""
        CREATE TABLE vis AS
        WITH b AS (
            SELECT i, (i * {M} // {V})::INT AS m, floor({U(ctx, 60, "i")} * t.tot_v)::BIGINT AS tgt
            FROM range({V}) r(i) JOIN cm_tot t ON t.m = (i * {M} // {V})::INT
        ), x AS (
            SELECT b.i, c.customer_id, c.currency AS ccy, c.country, c.emp, c.hm, mo.ms, mo.ndays
            FROM b ASOF JOIN cm w ON b.m = w.m AND b.tgt >= w.lo_v
            JOIN customers c ON c.cidx = w.cidx JOIN months mo ON mo.m = b.m
        )
        SELECT x.i, x.customer_id,
            workday(x.ms + floor({u(63)} * x.ndays)::INT) AS visit_date,
            list_element({team}, 1 + ({emp}) % len({team})) AS employee,
            CASE WHEN x.hm AND {u(64)} < 0.4 THEN 'Reklamation'
                ELSE list_element({purposes}, {purpose})
                END AS purpose,
            (round((1 + 7 * pow({u(66)}, 1.3)) * 4) / 4)::DECIMAL(18, 2) AS hours,
            (95 + 5 * floor(10 * {u(67)}))::DECIMAL(18, 2) AS hourly_rate,
            round(CASE x.country WHEN 'CH' THEN 40 + 260 * {u(68)}
                  WHEN 'US' THEN 1200 + 3300 * {u(68)}
                  ELSE 150 + 750 * {u(68)} END, 2)::DECIMAL(18, 2) AS travel_amount,
            round(CASE WHEN x.country = 'CH' AND {u(69)} < 0.3 THEN 0
                  WHEN x.country = 'CH' THEN 10 + 110 * {u(70)}
                  WHEN x.country = 'US' THEN 300 + 900 * {u(70)}
                  ELSE 80 + 370 * {u(70)} END, 2)::DECIMAL(18, 2) AS expense_amount,
            CASE WHEN x.ccy = 'EUR' THEN 'EUR' ELSE 'CHF' END AS currency
        FROM x
    """)


# fmt: off
QUOTE_TEXTS = ["Angebot Serienteile", "Preisanfrage Ersatzteile beantwortet",
               "Angebot Sonderanfertigung", "Angebot überarbeitet nach Rückfrage",
               "Nachkalkulation Rahmenauftrag"]
TENDER_TEXTS = ["Ausschreibung Rahmenvertrag", "Lastenheft beantwortet",
                "Tender Neuprojekt inkl. Musterprüfung", "Präqualifikation Lieferant"]
# category, weight, amount floor, amount span, exponent, campaigns
MARKETING = [
    ("sales_promotion", 50, 300, 11700, 2.0,
     "Messe SWISSTECH Standbeteiligung|Co-Marketing Katalog|Musterpaket|Werbekostenzuschuss"),
    ("presentations", 25, 150, 2850, 1.5,
     "Präsentationsmappe gedruckt|Demo-Kit Produktlinie|Muster und Schnittmodelle"),
    ("account_development", 25, 500, 7500, 2.0,
     "Kundenevent Werksbesuch|Akquisitionskampagne|Key-Account-Workshop|Strategie-Offsite"),
]
VENDORS = ["Messe Schweiz AG", "Druckerei Ostschweiz AG", "Agentur Blickfang GmbH",
           "Eventpartner Zürich GmbH", "Musterbau Keller AG", "Werbetechnik Süd GmbH"]
# Rates the KAM team plans with (close to config/activity_rates.csv, CHF): budgets are plans,
# not a re-computation of the warehouse's numbers.
PLAN_RATES = {"order": 13.0, "line": 2.6, "credit_note": 45.0, "shipment": 19.0,
              "express": 65.0, "kg": 0.13, "quote_h": 95.0, "tender_h": 110.0, "interest": 0.05}
# fmt: on


def quotations(con: duckdb.DuckDBPyConnection, ctx: Ctx, rows: int) -> None:
    """Create table ``quo``: the quotation log; tenders mostly for key accounts."""
    Q, M = rows, ctx.months
    u = lambda tag: U(ctx, tag, "x.i")  # noqa: E731
    quote_text = f"list_element({_lit(QUOTE_TEXTS)}, 1 + floor({len(QUOTE_TEXTS)} * {u(87)})::INT)"
    tender_text = (
        f"list_element({_lit(TENDER_TEXTS)}, 1 + floor({len(TENDER_TEXTS)} * {u(87)})::INT)"
    )
    con.execute(f"""
        CREATE TABLE quo AS
        WITH b AS (
            SELECT i, (i * {M} // {Q})::INT AS m, floor({U(ctx, 80, "i")} * t.tot_sv)::BIGINT AS tgt
            FROM range({Q}) r(i) JOIN cm_tot t ON t.m = (i * {M} // {Q})::INT
        ), x AS (
            SELECT b.i, b.m, c.customer_id, c.currency, c.is_key, mo.ms, mo.ndays, mo.yr,
                {U(ctx, 82, "b.i")} < (CASE WHEN c.is_key THEN 0.2 ELSE 0.04 END) AS tender
            FROM b ASOF JOIN cm w ON b.m = w.m AND b.tgt >= w.lo_sv
            JOIN customers c ON c.cidx = w.cidx JOIN months mo ON mo.m = b.m
        )
        SELECT x.i, x.customer_id,
            workday(x.ms + floor({u(81)} * x.ndays)::INT) AS quote_date,
            CASE WHEN x.tender THEN 'tender' ELSE 'quote' END AS quote_type,
            (CASE WHEN x.tender THEN round((6 + 34 * pow({u(83)}, 1.5)) * 4) / 4
                  ELSE round((0.5 + 5.5 * pow({u(83)}, 1.7)) * 4) / 4 END)::DECIMAL(18, 2)
                AS hours,
            (CASE WHEN x.tender THEN round(20000 + 480000 * pow({u(84)}, 2), -2)
                  ELSE round(300 + 40000 * pow({u(84)}, 2.5), 2) END)::DECIMAL(18, 2)
                AS quoted_amount,
            x.currency,
            CASE WHEN x.m >= {M} - 2 AND {u(85)} < 0.6 THEN 'open'
                 WHEN {u(86)} < (CASE WHEN x.is_key THEN 0.45 ELSE 0.3 END) THEN 'won'
                 ELSE 'lost' END AS status,
            CASE WHEN x.tender THEN {tender_text} || ' ' || x.yr ELSE {quote_text} END
                AS description
        FROM x
    """)


def marketing(con: duckdb.DuckDBPyConnection, ctx: Ctx, rows: int) -> None:
    """Create table ``mkt``: external marketing costs, mostly for key accounts (visit weights);
    new customers in their first six months get acquisition (account development) costs."""
    B, M = rows, ctx.months
    u = lambda tag: U(ctx, tag, "x.i")  # noqa: E731
    con.execute(
        "CREATE TABLE mkt_cat (cat INT, name VARCHAR, lo DOUBLE, span DOUBLE, ex DOUBLE, "
        "campaigns VARCHAR[])"
    )
    con.executemany(
        "INSERT INTO mkt_cat VALUES (?, ?, ?, ?, ?, ?)",
        [(i + 1, n, lo, sp, ex, c.split("|")) for i, (n, _, lo, sp, ex, c) in enumerate(MARKETING)],
    )
    bag = _bag([c[1] for c in MARKETING])
    acquisition = 1 + [c[0] for c in MARKETING].index("account_development")
    con.execute(f"""
        CREATE TABLE mkt AS
        WITH b AS (
            SELECT i, (i * {M} // {B})::INT AS m, floor({U(ctx, 90, "i")} * t.tot_v)::BIGINT AS tgt
            FROM range({B}) r(i) JOIN cm_tot t ON t.m = (i * {M} // {B})::INT
        ), x AS (
            SELECT b.i, b.m, c.customer_id, c.currency AS ccy, mo.ms, mo.ndays,
                CASE WHEN c.first_m > 0 AND b.m - c.first_m < 6 AND {U(ctx, 91, "b.i")} < 0.7
                     THEN {acquisition} ELSE {_draw(ctx, bag, 92, "b.i")} END AS cat
            FROM b ASOF JOIN cm w ON b.m = w.m AND b.tgt >= w.lo_v
            JOIN customers c ON c.cidx = w.cidx JOIN months mo ON mo.m = b.m
        )
        SELECT x.i, x.customer_id,
            workday(x.ms + floor({u(93)} * x.ndays)::INT) AS booking_date,
            k.name AS cost_category,
            list_element(k.campaigns, 1 + floor(len(k.campaigns) * {u(94)})::INT) AS campaign,
            list_element({_lit(VENDORS)}, 1 + floor({len(VENDORS)} * {u(95)})::INT) AS vendor,
            round(k.lo + k.span * pow({u(96)}, k.ex), 2)::DECIMAL(18, 2) AS amount,
            CASE WHEN x.ccy = 'EUR' THEN 'EUR' ELSE 'CHF' END AS currency
        FROM x JOIN mkt_cat k USING (cat)
    """)


def budgets(con: duckdb.DuckDBPyConnection, ctx: Ctx) -> None:
    """Create table ``bud``: the KAM team's relationship-cost budget per account, year and
    category, for every customer group and the five biggest standalone customers.

    A plan is an estimate made before the year: here the year's activity priced at planning
    rates (PLAN_RATES, in CHF) times a planning error of -20 % .. +20 %, rounded to 100, in the
    account's currency. So some accounts overrun their budget and others stay below it."""
    r = PLAN_RATES
    chf = "CASE currency WHEN 'EUR' THEN 0.95 WHEN 'USD' THEN 0.88 ELSE 1 END"
    con.execute(f"""
        CREATE TABLE bud AS
        WITH acc AS (
            SELECT cidx, customer_id, coalesce(customer_group_id, customer_id) AS account_id,
                   currency, fx, payment_net_days
            FROM customers WHERE customer_group_id IS NOT NULL OR cidx < 5
        ), acc_ccy AS (
            SELECT account_id, first(currency ORDER BY customer_id) AS currency,
                   first(fx ORDER BY customer_id) AS fx
            FROM acc GROUP BY ALL
        ), est AS (
            SELECT customer_id, year(service_date) AS yr, cost_category AS cat,
                   (hours * hourly_rate + material_amount) * {chf} AS chf
            FROM svc
            UNION ALL
            SELECT customer_id, year(visit_date), 'consulting_and_visits',
                   (hours * hourly_rate + travel_amount + expense_amount) * {chf}
            FROM vis
            UNION ALL
            SELECT customer_id, year(booking_date), cost_category, amount * {chf} FROM mkt
            UNION ALL
            SELECT customer_id, year(quote_date),
                   CASE quote_type WHEN 'tender' THEN 'tender_documents'
                        ELSE 'quotation_preparation' END,
                   hours * CASE quote_type WHEN 'tender' THEN {r["tender_h"]} ELSE {r["quote_h"]} END
            FROM quo
            UNION ALL
            SELECT a.customer_id, mo.yr, 'order_processing',
                   o.orders * {r["order"]} + o.order_lines * {r["line"]}
                   + o.credit_notes * {r["credit_note"]}
            FROM cm_ops o JOIN acc a USING (cidx) JOIN months mo USING (m)
            UNION ALL
            SELECT a.customer_id, mo.yr, 'logistics',
                   o.shipments * {r["shipment"]} + o.express * {r["express"]} + o.kg * {r["kg"]}
            FROM cm_ops o JOIN acc a USING (cidx) JOIN months mo USING (m)
            UNION ALL
            SELECT a.customer_id, mo.yr, 'financing',
                   greatest(v.rev, 0) * a.fx * a.payment_net_days / 365 * {r["interest"]}
            FROM cm_rev v JOIN acc a USING (cidx) JOIN months mo USING (m)
        ), tot AS (
            SELECT a.account_id, e.yr, e.cat, sum(e.chf) AS chf
            FROM est e JOIN acc a USING (customer_id) GROUP BY ALL
        )
        SELECT t.account_id, t.yr AS year, t.cat AS cost_category,
            (greatest(100, round(t.chf / c.fx
                * (0.8 + 0.4 * {U(ctx, 97, "hash(t.account_id)", "t.yr", "hash(t.cat)")}), -2))
                )::DECIMAL(18, 2) AS budget_amount,
            c.currency
        FROM tot t JOIN acc_ccy c USING (account_id)
        WHERE t.chf >= 50 AND t.yr >= {ctx.start.year}
    """)
