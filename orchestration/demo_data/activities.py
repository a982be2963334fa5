"""Service tickets and visit reports (the direct cost-to-serve sources), generated in DuckDB."""

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
    ("tender_documents", 4, 6, 20, 0.0, 0,
     "Ausschreibungsunterlagen erstellt|Lastenheft beantwortet"),
    ("quotation_preparation", 18, 14, 6, 0.0, 0,
     "Angebot erstellt|Angebot überarbeitet|Preisanfrage beantwortet"),
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
