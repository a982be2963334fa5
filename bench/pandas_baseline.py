"""pandas baseline: the two marts computed the way a data team would in a notebook.

Read every CSV with `pd.read_csv` (German number format), merge customers and exchange rates
(`merge_asof` for "latest rate on or before the date"), group by. Money is turned into integer
minor units right after parsing (a common pandas idiom, and the only way floats can reproduce
the warehouse's rounding rule to the cent): amounts are rounded half away from zero to the cent
in the document currency, converted at the rate and rounded again, as in the dbt models.

Run as its own process by the harness, so that its time and peak memory are measured alone:

    python -m bench.pandas_baseline --raw bench/cache/1000000/raw --out /tmp/pandas

It writes key_account_value.parquet and cost_to_serve.parquet with money in cents (int64).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

GERMAN = {"sep": ";", "decimal": ",", "thousands": "."}
DATE = "%d.%m.%Y"
DEDUCTION_TYPES = {
    "bonus": "bonuses",
    "cash_discount": "cash_discounts",
    "rebate": "rebates",
    "promotion": "promotions",
}


def read(folder: Path, **kwargs) -> pd.DataFrame:
    files = sorted(folder.glob("*.csv"))
    return pd.concat([pd.read_csv(f, **GERMAN, **kwargs) for f in files], ignore_index=True)


def to_int(values: pd.Series, decimals: int) -> np.ndarray:
    """Parsed decimal -> integer in units of 10**-decimals (exact for values with <= decimals)."""
    return np.rint(values.to_numpy(dtype="float64") * 10**decimals).astype("int64")


def round_div(n: np.ndarray, d: int) -> np.ndarray:
    """n / d rounded half away from zero (d even), in integers."""
    return np.sign(n) * ((np.abs(n) + d // 2) // d)


def with_rates(df: pd.DataFrame, date_col: str, rates: pd.DataFrame) -> pd.DataFrame:
    """Attach rate_micro: the latest rate on or before the row's date (merge_asof)."""
    df = df.sort_values(date_col)
    out = pd.merge_asof(
        df, rates, left_on=date_col, right_on="rate_date", by="currency", direction="backward"
    )
    if out["rate_micro"].isna().any():
        raise ValueError(f"rows without an exchange rate on or before their {date_col}")
    out["rate_micro"] = out["rate_micro"].astype("int64")
    return out


def to_reporting(cents: np.ndarray, rate_micro: pd.Series) -> np.ndarray:
    return round_div(cents * rate_micro.to_numpy(), 1_000_000)


def month_of(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M").dt.to_timestamp()


def compute(raw: Path, currency: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rates = read(raw / "exchange_rates", parse_dates=["rate_date"], date_format=DATE)
    rates = rates[rates["to_currency"] == currency].rename(columns={"from_currency": "currency"})
    rates = pd.concat(
        [
            rates[["rate_date", "currency", "rate"]],
            pd.DataFrame(
                {"rate_date": [pd.Timestamp("1900-01-01")], "currency": [currency], "rate": [1.0]}
            ),
        ],
        ignore_index=True,
    )
    rates["rate_micro"] = to_int(rates["rate"], 6)
    rates = rates.drop(columns="rate").sort_values("rate_date")

    customers = read(raw / "customers", encoding="cp1252", dtype=str)
    customers["account_id"] = customers["customer_group_id"].fillna(customers["customer_id"])
    accounts = customers[["customer_id", "account_id"]]

    # Invoice lines -> gross revenue and COGS per account and month.
    lines = read(
        raw / "invoice_lines",
        encoding="utf-8-sig",
        usecols=[
            "invoice_date",
            "customer_id",
            "quantity",
            "unit_price",
            "currency",
            "document_type",
            "standard_cost_per_unit",
        ],
        parse_dates=["invoice_date"],
        date_format=DATE,
    )
    lines = lines.merge(accounts, on="customer_id", how="inner")
    lines = with_rates(lines, "invoice_date", rates)
    sign = np.where(lines["document_type"] == "credit_note", -1, 1)
    quantity = to_int(lines["quantity"], 3)
    lines["gross_revenue"] = sign * to_reporting(
        round_div(quantity * to_int(lines["unit_price"], 4), 100_000), lines["rate_micro"]
    )
    lines["cogs"] = sign * to_reporting(
        round_div(quantity * to_int(lines["standard_cost_per_unit"], 4), 100_000),
        lines["rate_micro"],
    )
    lines["month"] = month_of(lines["invoice_date"])
    revenue = lines.groupby(["account_id", "month"], as_index=False)[
        ["gross_revenue", "cogs"]
    ].sum()
    del lines

    # Deductions -> the four deduction types per account and month.
    ded = read(
        raw / "deductions",
        usecols=["customer_id", "booking_date", "deduction_type", "amount", "currency"],
        parse_dates=["booking_date"],
        date_format=DATE,
    )
    ded = with_rates(ded.merge(accounts, on="customer_id"), "booking_date", rates)
    ded["amount"] = to_reporting(to_int(ded["amount"], 2), ded["rate_micro"])
    ded["month"] = month_of(ded["booking_date"])
    deductions = ded.pivot_table(
        index=["account_id", "month"],
        columns="deduction_type",
        values="amount",
        aggfunc="sum",
        fill_value=0,
    ).reset_index()
    deductions = deductions.rename(columns=DEDUCTION_TYPES)
    for col in DEDUCTION_TYPES.values():
        if col not in deductions:
            deductions[col] = 0

    # Service tickets and visits -> cost lines.
    svc = read(raw / "service_logs", parse_dates=["service_date"], date_format=DATE)
    svc["amount"] = round_div(to_int(svc["hours"], 2) * to_int(svc["hourly_rate"], 2), 100)
    svc["amount"] += to_int(svc["material_amount"].fillna(0), 2)
    svc = svc.rename(columns={"service_date": "cost_date"})
    vis = read(raw / "visit_costs", parse_dates=["visit_date"], date_format=DATE)
    vis["amount"] = round_div(to_int(vis["hours"], 2) * to_int(vis["hourly_rate"], 2), 100)
    vis["amount"] += to_int(vis["travel_amount"].fillna(0), 2)
    vis["amount"] += to_int(vis["expense_amount"].fillna(0), 2)
    vis["cost_category"] = "consulting_and_visits"
    vis = vis.rename(columns={"visit_date": "cost_date"})
    cols = ["customer_id", "cost_date", "cost_category", "currency", "amount"]
    costs = pd.concat([svc[cols], vis[cols]], ignore_index=True).merge(accounts, on="customer_id")
    costs = with_rates(costs, "cost_date", rates)
    costs["amount"] = to_reporting(costs["amount"].to_numpy(), costs["rate_micro"])
    costs["month"] = month_of(costs["cost_date"])
    cost_to_serve = costs.groupby(["account_id", "month", "cost_category"], as_index=False).agg(
        amount=("amount", "sum"), cost_line_count=("amount", "size")
    )
    relationship = costs.groupby(["account_id", "month"], as_index=False)["amount"].sum()
    relationship = relationship.rename(columns={"amount": "relationship_costs"})

    # The waterfall.
    kav = revenue.merge(deductions, on=["account_id", "month"], how="outer")
    kav = kav.merge(relationship, on=["account_id", "month"], how="outer")
    money = ["gross_revenue", "cogs", *DEDUCTION_TYPES.values(), "relationship_costs"]
    kav[money] = kav[money].fillna(0).astype("int64")
    kav["revenue_deductions"] = kav[list(DEDUCTION_TYPES.values())].sum(axis=1)
    kav["net_revenue"] = kav["gross_revenue"] - kav["revenue_deductions"]
    kav["gross_margin"] = kav["net_revenue"] - kav["cogs"]
    kav["key_account_value"] = kav["gross_margin"] - kav["relationship_costs"]
    for df in (kav, cost_to_serve):
        df["month"] = df["month"].dt.date
    return kav, cost_to_serve


def run(raw_dir: Path, out_dir: Path, reporting_currency: str = "CHF") -> dict[str, object]:
    started = time.perf_counter()
    kav, cts = compute(raw_dir, reporting_currency)
    out_dir.mkdir(parents=True, exist_ok=True)
    kav.to_parquet(out_dir / "key_account_value.parquet", index=False)
    cts.to_parquet(out_dir / "cost_to_serve.parquet", index=False)
    return {"seconds": time.perf_counter() - started, "reporting_currency": reporting_currency}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True, help="folder with <source>/*.csv")
    parser.add_argument("--out", type=Path, required=True, help="folder for the mart Parquet files")
    parser.add_argument("--currency", default="CHF", help="reporting currency")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.raw, args.out, args.currency)))


if __name__ == "__main__":
    main()
