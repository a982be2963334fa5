"""Blocking validations of the cost configuration and of the data it prices.

Each function returns problems as text naming the file, the row and what is wrong; the Dagster
asset and checks in orchestration/assets/costing.py turn them into a failed step or a failed
blocking check, so the refresh stops before publishing and `published/current` stays.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.costing.catalogue import ActivityRate, shown
from orchestration.duck import connect, quote_literal
from orchestration.scope.run_scope import read_scope
from orchestration.settings import Settings

CATALOGUE_PARQUET = "activity_rates.parquet"
UNPRICED_VIEW = "int_unpriced_driver_volumes"
SHOW = 5


def write_catalogue(settings: Settings, rates: list[ActivityRate], source: Path) -> Path:
    """The validated catalogue as Parquet for dbt (source `config.activity_rates`)."""
    settings.config_dir.mkdir(parents=True, exist_ok=True)
    target = settings.config_dir / CATALOGUE_PARQUET
    tmp = target.with_name(f".{target.name}.tmp")
    con = connect(settings)
    try:
        con.execute(
            """
            CREATE TEMP TABLE rates (activity VARCHAR, cost_category VARCHAR, driver VARCHAR,
                rate DECIMAL(18, 6), currency VARCHAR, valid_from DATE, valid_to DATE,
                description VARCHAR, _source_file VARCHAR, _source_row BIGINT)
            """
        )
        con.executemany(
            "INSERT INTO rates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.activity,
                    r.cost_category,
                    r.driver,
                    r.rate,
                    r.currency,
                    r.valid_from,
                    r.valid_to,
                    r.description,
                    shown(source),
                    r.row,
                )
                for r in rates
            ],
        )
        con.execute(f"COPY rates TO {quote_literal(str(tmp))} (FORMAT parquet)")
    finally:
        con.close()
    tmp.replace(target)
    return target


def unknown_budget_accounts(settings: Settings) -> tuple[list[str], int]:
    """Budget rows whose account is neither a customer group nor a standalone customer.

    Returns (up to SHOW problem lines, number of such rows)."""
    budgets = quote_literal(settings.accepted_glob("cost_budgets"))
    customers = quote_literal(settings.accepted_glob("customers"))
    con = connect(settings)
    try:
        rows = con.execute(
            f"""
            WITH accounts AS (
                SELECT DISTINCT coalesce(customer_group_id, customer_id) AS account_id
                FROM read_parquet({customers})
            ), sites AS (
                SELECT customer_id, customer_group_id FROM read_parquet({customers})
                WHERE customer_group_id IS NOT NULL
            )
            SELECT b._source_file, b._source_row, b.account_id, s.customer_group_id,
                   count(*) OVER () AS n
            FROM read_parquet({budgets}) b
            LEFT JOIN sites s ON s.customer_id = b.account_id
            WHERE b.account_id NOT IN (SELECT account_id FROM accounts)
            ORDER BY b._source_file, b._source_row
            LIMIT {SHOW}
            """
        ).fetchall()
    finally:
        con.close()
    problems = []
    for file, row, account, group, _ in rows:
        hint = (
            f"{account} is a site of customer group {group}; budget the group"
            if group
            else "not a customer group id nor the id of a customer without a group"
        )
        problems.append(
            f"{settings.raw_dir / file} row {row}: budget for unknown account {account!r} ({hint})"
        )
    return problems, (rows[0][4] if rows else 0)


def unpriced_driver_volumes(settings: Settings) -> tuple[list[str], int]:
    """Driver volume that no valid catalogue rate (or no exchange rate) prices.

    Reads the dbt view int_unpriced_driver_volumes in the working database, for the months of
    the run scope (a full scope: every month). Returns (up to SHOW problem lines, number of
    unpriced driver volumes)."""
    catalogue = shown(settings.activity_rates_file)
    months = read_scope(settings).sql_filter("month")
    con = connect(settings, settings.warehouse_db, read_only=True)
    try:
        rows = con.execute(
            f"""
            SELECT problem, activity, driver, activity_date, source_file, source_row, detail,
                   count(*) OVER () AS n
            FROM main.{UNPRICED_VIEW}
            WHERE {months}
            ORDER BY activity_date, source_file, source_row, driver, activity
            LIMIT {SHOW}
            """
        ).fetchall()
    finally:
        con.close()
    problems = []
    for problem, activity, driver, day, file, row, detail, _ in rows:
        origin = f"{settings.raw_dir / file} row {row} ({detail})"
        if problem == "no_activity":
            what = f"{catalogue}: no activity prices driver {driver!r}"
        elif problem == "no_rate":
            what = (
                f"{catalogue}: missing rate for activity {activity!r} (driver {driver}) "
                f"valid on {day:%Y-%m-%d}"
            )
        else:
            what = (
                f"{catalogue}: no exchange rate into the reporting currency on or before "
                f"{day:%Y-%m-%d} for the rate of activity {activity!r}"
            )
        problems.append(f"{what}; driver volume from {origin}")
    return problems, (rows[0][7] if rows else 0)
