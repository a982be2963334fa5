"""The key-account team's account assessments (judgments, partnership stage, purchasing potential).

Built in Python from the generated customer base and the customer-month revenue (table
``cm_rev``), after all other sources, with its own ``random.Random``: adding it changes no other
file. The KAM team assesses its customer groups and its larger standalone customers once a year
in November; some accounts are assessed only from a later year on, some cells are left empty
(missing judgments), and a few estimates are missing.
"""

from __future__ import annotations

import random
from datetime import date

import duckdb
import pyarrow as pa

from orchestration.demo_data.activities import CH_TEAM, DE_TEAM
from orchestration.demo_data.customers import FX_LIST, add_months
from orchestration.demo_data.facts import Ctx

JUDGMENTS = (
    "product_fit",
    "buying_process",
    "partner_potential",
    "existing_relationships",
    "cultural_fit",
)
PROXIMITY = {"CH": (8, 10), "DE": (6, 8), "AT": (6, 8), "FR": (5, 7), "IT": (5, 7), "NL": (4, 6)}
COMMENTS = [
    "Jahresgespräch geführt",
    "Einkauf neu besetzt",
    "Rahmenvertrag in Verhandlung",
    "Wettbewerber im Werk aktiv",
    "Gemeinsames Entwicklungsprojekt geplant",
    "Preisdruck hoch",
    "",
    "",
]


def build_assessments(con: duckdb.DuckDBPyConnection, ctx: Ctx) -> pa.Table:
    """Return the assessment rows (raw contract columns) for the generated customer base."""
    rng = random.Random(ctx.seed * 7919 + 101)
    accounts = con.execute("""
        WITH r AS (SELECT cidx, sum(rev) AS rev FROM cm_rev GROUP BY cidx)
        SELECT coalesce(c.customer_group_id, c.customer_id) AS account_id,
               bool_or(c.is_key) AS is_key, bool_or(c.hm) AS hm,
               min(c.first_m) AS first_m, max(coalesce(c.churn_m, 1000000)) AS churn_m,
               arg_max(c.currency, coalesce(r.rev, 0) * c.fx) AS currency,
               arg_max(c.country, coalesce(r.rev, 0) * c.fx) AS country,
               coalesce(sum(r.rev * c.fx), 0) AS revenue_chf,
               list(c.cidx) AS sites
        FROM customers c LEFT JOIN r USING (cidx)
        GROUP BY 1 ORDER BY 1
    """).fetchall()
    monthly = {}
    for cidx, m, rev, fx in con.execute(
        "SELECT r.cidx, r.m, r.rev, c.fx FROM cm_rev r JOIN customers c USING (cidx)"
    ).fetchall():
        monthly[(cidx, m)] = float(rev) * fx
    groups = [a for a in accounts if a[0].startswith("G")]
    solo = sorted((a for a in accounts if not a[0].startswith("G")), key=lambda a: -a[7])
    assessed = groups + solo[: max(3, round(len(accounts) * 0.45) - len(groups))]
    review_months = [
        m for m in range(ctx.months) if add_months(ctx.start, m).month == 11 and m >= 1
    ] or [ctx.months - 1]
    rows = []
    for account_id, is_key, hm, first_m, churn_m, currency, country, _, sites in sorted(assessed):
        level = 7.5 if is_key else 6.0 if account_id.startswith("G") else 5.5
        bias = {j: rng.gauss(0, 1.3) for j in JUDGMENTS}
        if hm:  # high-maintenance accounts: a difficult relationship
            bias["cultural_fit"] -= 2.5
            bias["buying_process"] -= 1.5
        stage = rng.randint(3, 5) if is_key else rng.randint(1, 3)
        start = 0 if is_key or rng.random() < 0.5 else rng.randrange(len(review_months))
        for m in review_months[start:]:
            if m <= first_m or m >= churn_m:
                continue
            ms = add_months(ctx.start, m)
            day = date(ms.year, ms.month, rng.randint(3, 27))
            values = {
                j: min(10, max(1, round(level + bias[j] + rng.gauss(0, 0.7)))) for j in JUDGMENTS
            }
            lo, hi = PROXIMITY.get(country, (1, 3))
            values["geographic_proximity"] = rng.randint(lo, hi)
            for j in values:
                if rng.random() < (0.04 if is_key else 0.09):
                    values[j] = None  # left empty: a missing judgment
            if rng.random() < 0.3:
                stage = min(5, stage + 1) if rng.random() < 0.7 else max(1, stage - 1)
            trailing = sum(monthly.get((s, k), 0.0) for s in sites for k in range(m - 11, m + 1))
            factor = rng.uniform(1.1, 1.8) if is_key else rng.uniform(1.3, 3.5)
            potential = None
            if trailing > 0 and rng.random() >= 0.1:
                potential = round(trailing * factor / FX_LIST[currency] / 1000) * 1000
            team = CH_TEAM if currency == "CHF" else DE_TEAM if currency == "EUR" else CH_TEAM[:2]
            rows.append(
                {
                    "account_id": account_id,
                    "assessment_date": day,
                    "assessor": rng.choice(team),
                    **values,
                    "partnership_stage": stage if rng.random() >= 0.05 else None,
                    "purchasing_potential": potential,
                    "currency": currency,
                    "comment": rng.choice(COMMENTS) or None,
                }
            )
    rows.sort(key=lambda r: (r["assessment_date"], r["account_id"]))
    schema = pa.schema(
        [
            ("account_id", pa.string()),
            ("assessment_date", pa.date32()),
            ("assessor", pa.string()),
            *((j, pa.int32()) for j in (*JUDGMENTS, "geographic_proximity", "partnership_stage")),
            ("purchasing_potential", pa.float64()),
            ("currency", pa.string()),
            ("comment", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
