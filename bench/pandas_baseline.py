"""pandas baseline: the marts computed the way a data team would in a notebook.

Two variants, each measured as its own implementation: `floor` (the fair floor,
bench/pandas_floor.py) writes what the product publishes at minimum (key_account_value, and
cost_to_serve and cost_lines one file per month, with the published columns and types);
`2marts`, the variant of the earlier runs kept as it was (`compute` below), writes only the two
marts with their money in integer cents.

Read every CSV with `pd.read_csv` (German number format), merge customers and exchange rates
(`merge_asof` for "latest rate on or before the date"), group by. Money is turned into integer
minor units right after parsing (a common pandas idiom, and the only way floats can reproduce
the warehouse's rounding rules to the cent): amounts are rounded half away from zero to the cent
in the document currency, converted at the rate and rounded again, as in the dbt models.

It computes what the dbt models compute (dbt_project/models): revenue and COGS; deductions with
period bonuses spread over their months by net revenue (largest remainder in cents); direct
costs of the declared cost sources; driver-based costs (orders, order lines, credit notes,
shipments, express shipments, shipped kg, quote and tender hours) at the catalogue rate valid on
the activity date (config/activity_rates.csv); financing of receivables within terms and late,
cut at month ends and rate changes, in integer micro-units of receivable-years.

Run as its own process by the harness, so that its time and peak memory are measured alone:

    python -m bench.pandas_baseline --raw bench/cache/1000000/raw --out /tmp/pandas [--variant 2marts]

The two-mart variant writes key_account_value.parquet and cost_to_serve.parquet with money in
cents (int64).
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
MICRO = 1_000_000
FAR_FUTURE = pd.Timestamp("2262-04-01")  # pandas' last representable month stands for 9999-12-31


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
    """Attach fx_micro: the latest rate on or before the row's date (merge_asof)."""
    df = df.sort_values(date_col)
    out = pd.merge_asof(
        df, rates, left_on=date_col, right_on="rate_date", by="currency", direction="backward"
    )
    if out["fx_micro"].isna().any():
        raise ValueError(f"rows without an exchange rate on or before their {date_col}")
    out["fx_micro"] = out["fx_micro"].astype("int64")
    return out.drop(columns="rate_date")


def to_reporting(cents: np.ndarray, fx_micro: pd.Series) -> np.ndarray:
    return round_div(cents * fx_micro.to_numpy(), MICRO)


def month_of(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M").dt.to_timestamp()


def months_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Number of calendar months from start's month to end's month, both included."""
    return ((end.dt.year - start.dt.year) * 12 + end.dt.month - start.dt.month + 1).to_numpy()


def explode_months(df: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """One row per month from the month of df[start] to the month of df[end] (month_start)."""
    n = months_between(df[start], df[end])
    out = df.loc[df.index.repeat(n)].copy()
    offset = out.groupby(level=0).cumcount().to_numpy()
    index = (out[start].dt.year * 12 + out[start].dt.month - 1).to_numpy() + offset
    out["month_start"] = pd.to_datetime(
        pd.DataFrame({"year": index // 12, "month": index % 12 + 1, "day": 1})
    ).to_numpy()
    return out.reset_index(drop=True)


def fx_and_accounts(raw: Path, currency: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exchange rates into `currency` (fx_micro from rate_date on) and customer -> account."""
    fx = read(raw / "exchange_rates", parse_dates=["rate_date"], date_format=DATE)
    fx = fx[fx["to_currency"] == currency].rename(columns={"from_currency": "currency"})
    fx = pd.concat(
        [
            fx[["rate_date", "currency", "rate"]],
            pd.DataFrame(
                {"rate_date": [pd.Timestamp("1900-01-01")], "currency": [currency], "rate": [1.0]}
            ),
        ],
        ignore_index=True,
    )
    fx["fx_micro"] = to_int(fx["rate"], 6)
    fx = fx.drop(columns="rate").sort_values("rate_date")

    customers = read(raw / "customers", encoding="cp1252", dtype=str)
    customers["account_id"] = customers["customer_group_id"].fillna(customers["customer_id"])
    return fx, customers[["customer_id", "account_id"]]


def compute(
    raw: Path, currency: str, rates_file: Path, as_of: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    fx, accounts = fx_and_accounts(raw, currency)

    # Invoice lines -> gross revenue and COGS per line, in cents of the reporting currency.
    lines = read(
        raw / "invoice_lines",
        encoding="utf-8-sig",
        usecols=[
            "invoice_number",
            "invoice_date",
            "customer_id",
            "quantity",
            "unit_price",
            "currency",
            "document_type",
            "standard_cost_per_unit",
            "due_date",
            "payment_date",
        ],
        parse_dates=["invoice_date", "due_date", "payment_date"],
        date_format=DATE,
    )
    lines = lines.merge(accounts, on="customer_id", how="inner")
    lines = with_rates(lines, "invoice_date", fx)
    sign = np.where(lines["document_type"] == "credit_note", -1, 1)
    quantity = to_int(lines["quantity"], 3)
    lines["gross_revenue"] = sign * to_reporting(
        round_div(quantity * to_int(lines["unit_price"], 4), 100_000), lines["fx_micro"]
    )
    lines["cogs"] = sign * to_reporting(
        round_div(quantity * to_int(lines["standard_cost_per_unit"], 4), 100_000),
        lines["fx_micro"],
    )
    lines = lines.drop(columns=["quantity", "unit_price", "standard_cost_per_unit", "fx_micro"])
    lines["month"] = month_of(lines["invoice_date"])
    revenue = lines.groupby(["account_id", "month"], as_index=False)[
        ["gross_revenue", "cogs"]
    ].sum()

    deductions = deductions_by_month(raw, accounts, fx, revenue)
    rates = read_catalogue(rates_file)
    costs = pd.concat(
        [
            direct_costs(raw, accounts, fx),
            driver_costs(raw, accounts, fx, lines, rates, currency),
            financing_costs(lines, rates, fx, currency, as_of),
        ],
        ignore_index=True,
    )
    del lines

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


def deductions_by_month(
    raw: Path, accounts: pd.DataFrame, fx: pd.DataFrame, revenue: pd.DataFrame
) -> pd.DataFrame:
    """Deduction types per account and month; period bonuses spread by net revenue."""
    ded = read(
        raw / "deductions",
        usecols=[
            "deduction_id",
            "customer_id",
            "booking_date",
            "deduction_type",
            "amount",
            "currency",
            "period_start",
            "period_end",
        ],
        parse_dates=["booking_date", "period_start", "period_end"],
        date_format=DATE,
    )
    ded = with_rates(ded.merge(accounts, on="customer_id"), "booking_date", fx)
    ded["amount"] = to_reporting(to_int(ded["amount"], 2), ded["fx_micro"])
    ded["month"] = month_of(ded["booking_date"])

    other = ded[ded["deduction_type"] != "bonus"].groupby(["account_id", "month"])["amount"].sum()
    net = revenue.set_index(["account_id", "month"])["gross_revenue"]
    net = net.sub(other, fill_value=0).rename("net_before_bonuses").reset_index()

    bonuses = ded[
        (ded["deduction_type"] == "bonus")
        & ded["period_start"].notna()
        & (ded["period_end"] >= ded["period_start"])
    ]
    spread = pd.DataFrame(columns=["deduction_id", "month", "amount"])
    if len(bonuses):
        months = explode_months(bonuses, "period_start", "period_end")
        months = months.merge(
            net,
            left_on=["account_id", "month_start"],
            right_on=["account_id", "month"],
            how="left",
            suffixes=("_booked", ""),
        )
        weight = months["net_before_bonuses"].fillna(0).clip(lower=0).astype("int64")
        # Python integers: |bonus| x weight can exceed 64 bits at large accounts.
        months["weight"] = weight.astype(object)
        months["total"] = months.groupby("deduction_id")["weight"].transform("sum")
        months = months[months["total"] > 0].copy()
        cents = months["amount"].astype(object)
        product = [abs(c) * w for c, w in zip(cents, months["weight"], strict=True)]
        months["floor"] = [p // t for p, t in zip(product, months["total"], strict=True)]
        months["remainder"] = [p % t for p, t in zip(product, months["total"], strict=True)]
        months["leftover"] = cents.abs() - months.groupby("deduction_id")["floor"].transform("sum")
        months = months.sort_values(
            ["deduction_id", "remainder", "month_start"], ascending=[True, False, True]
        )
        months["rank"] = months.groupby("deduction_id").cumcount() + 1
        extra = (months["rank"] <= months["leftover"]).astype(int)
        months["spread"] = np.sign(months["amount"].to_numpy()) * (months["floor"] + extra)
        spread = months.rename(columns={"month_start": "spread_month"})[
            ["deduction_id", "spread_month", "spread"]
        ].rename(columns={"spread_month": "month", "spread": "amount"})
    spread_rows = spread[spread["amount"] != 0].merge(
        ded[["deduction_id", "account_id", "deduction_type"]], on="deduction_id"
    )
    booked = ded[~ded["deduction_id"].isin(spread["deduction_id"])]
    allocated = pd.concat(
        [spread_rows, booked[["deduction_id", "account_id", "deduction_type", "month", "amount"]]],
        ignore_index=True,
    )
    allocated["amount"] = allocated["amount"].astype("int64")
    out = allocated.pivot_table(
        index=["account_id", "month"],
        columns="deduction_type",
        values="amount",
        aggfunc="sum",
        fill_value=0,
    ).reset_index()
    out = out.rename(columns=DEDUCTION_TYPES)
    for col in DEDUCTION_TYPES.values():
        if col not in out:
            out[col] = 0
    return out[["account_id", "month", *DEDUCTION_TYPES.values()]]


def _cost_lines(df: pd.DataFrame, accounts: pd.DataFrame, fx: pd.DataFrame) -> pd.DataFrame:
    """(account, month, category, amount in reporting cents) from document-currency cents."""
    df = with_rates(df.merge(accounts, on="customer_id"), "cost_date", fx)
    df["amount"] = to_reporting(df["amount"].to_numpy(), df["fx_micro"])
    df["month"] = month_of(df["cost_date"])
    return df[["account_id", "month", "cost_category", "amount"]]


def direct_costs(raw: Path, accounts: pd.DataFrame, fx: pd.DataFrame) -> pd.DataFrame:
    """Service tickets, visits and marketing bookings: each term rounded to the cent."""
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
    mkt = read(raw / "marketing_bookings", parse_dates=["booking_date"], date_format=DATE)
    mkt["amount"] = to_int(mkt["amount"], 2)
    mkt = mkt.rename(columns={"booking_date": "cost_date"})
    cols = ["customer_id", "cost_date", "cost_category", "currency", "amount"]
    bookings = pd.concat([svc[cols], vis[cols], mkt[cols]], ignore_index=True)
    return _cost_lines(bookings, accounts, fx)


def read_catalogue(rates_file: Path) -> pd.DataFrame:
    """The activity catalogue: a rate applies from valid_from to valid_to, both included."""
    rates = pd.read_csv(rates_file, parse_dates=["valid_from", "valid_to"], dtype={"rate": str})
    rates["rate_micro"] = to_int(rates["rate"].astype(float), 6)
    rates["valid_until"] = (rates["valid_to"] + pd.Timedelta(days=1)).fillna(FAR_FUTURE)
    return rates[
        [
            "activity",
            "cost_category",
            "driver",
            "rate_micro",
            "currency",
            "valid_from",
            "valid_until",
        ]
    ].rename(columns={"currency": "rate_currency"})


def driver_costs(
    raw: Path,
    accounts: pd.DataFrame,
    fx: pd.DataFrame,
    lines: pd.DataFrame,
    rates: pd.DataFrame,
    currency: str,
) -> pd.DataFrame:
    """Time-driven activity-based costing: driver volume x the rate valid on the activity date."""
    docs = (
        lines.groupby(["invoice_number", "document_type", "invoice_date", "customer_id"])
        .size()
        .rename("line_count")
        .reset_index()
    )
    inv, cn = docs[docs["document_type"] == "invoice"], docs[docs["document_type"] == "credit_note"]
    shp = read(raw / "shipments", parse_dates=["ship_date"], date_format=DATE)
    quo = read(raw / "quotations", parse_dates=["quote_date"], date_format=DATE)
    parts = [
        ("orders", inv["invoice_date"], inv["customer_id"], np.full(len(inv), MICRO)),
        ("order_lines", inv["invoice_date"], inv["customer_id"], inv["line_count"] * MICRO),
        ("credit_notes", cn["invoice_date"], cn["customer_id"], np.full(len(cn), MICRO)),
        ("shipments", shp["ship_date"], shp["customer_id"], np.full(len(shp), MICRO)),
        ("shipped_kg", shp["ship_date"], shp["customer_id"], to_int(shp["weight_kg"], 6)),
    ]
    express = shp[shp["service_level"] == "express"]
    parts.append(
        (
            "express_shipments",
            express["ship_date"],
            express["customer_id"],
            np.full(len(express), MICRO),
        )
    )
    quote_driver = np.where(quo["quote_type"] == "tender", "tender_hours", "quote_hours")
    volumes = pd.concat(
        [
            pd.DataFrame(
                {
                    "driver": driver,
                    "cost_date": pd.Series(dates).to_numpy(),
                    "customer_id": pd.Series(customers).to_numpy(),
                    "quantity_micro": np.asarray(quantity, dtype="int64"),
                }
            )
            for driver, dates, customers, quantity in parts
        ]
        + [
            pd.DataFrame(
                {
                    "driver": quote_driver,
                    "cost_date": quo["quote_date"].to_numpy(),
                    "customer_id": quo["customer_id"].to_numpy(),
                    "quantity_micro": to_int(quo["hours"], 6),
                }
            )
        ],
        ignore_index=True,
    )
    volumes = volumes[volumes["quantity_micro"] > 0].merge(accounts, on="customer_id")
    priced = volumes.merge(rates, on="driver")
    priced = priced[
        (priced["cost_date"] >= priced["valid_from"])
        & (priced["cost_date"] < priced["valid_until"])
    ]
    return _price(priced, fx, currency)


def financing_costs(
    lines: pd.DataFrame,
    rates: pd.DataFrame,
    fx: pd.DataFrame,
    currency: str,
    as_of: pd.Timestamp | None,
) -> pd.DataFrame:
    """Receivable x days / 365 x annual rate, within terms and late, cut at month ends and at
    rate changes; open invoices until the as-of date (default: the latest date in the data)."""
    if as_of is None:
        as_of = max(lines["invoice_date"].max(), lines["payment_date"].max())
    keys = [
        "invoice_number",
        "account_id",
        "customer_id",
        "invoice_date",
        "due_date",
        "payment_date",
    ]
    inv = (
        lines[lines["document_type"] == "invoice"]
        .groupby(keys, dropna=False)["gross_revenue"]
        .sum()
        .rename("receivable")
        .reset_index()
    )
    inv = inv[inv["receivable"] > 0]
    settled = inv["payment_date"].fillna(as_of).clip(upper=as_of)
    priced, cost_end = receivable_pieces(inv, settled, rates)
    days = (cost_end - priced["cost_date"]).dt.days.to_numpy()
    cents = priced["receivable"].to_numpy()
    # receivable-years in micro-units, rounded half up: floor((2 x cents x days x 10^4 + 365) / 730)
    priced["quantity_micro"] = (2 * cents * days * 10_000 + 365) // 730
    return _price(priced, fx, currency)


def receivable_pieces(
    inv: pd.DataFrame, settled: pd.Series, rates: pd.DataFrame, valid_from: str = "valid_from"
) -> tuple[pd.DataFrame, pd.Series]:
    """Each invoice's receivable days, split at its due date (in terms, late) and at month ends,
    joined to the financing rates valid on them: the pieces with their first day (`cost_date`)
    and their end (exclusive). Shared by both pandas variants."""
    periods = pd.concat(
        [
            inv.assign(
                driver="receivable_years_in_terms",
                period_start=inv["invoice_date"],
                period_end=np.minimum(inv["due_date"], settled),
            ),
            inv.assign(
                driver="receivable_years_late",
                period_start=np.maximum(inv["due_date"], inv["invoice_date"]),
                period_end=settled,
            ),
        ],
        ignore_index=True,
    )
    periods = periods[periods["period_end"] > periods["period_start"]]
    periods = periods.assign(last_day=periods["period_end"] - pd.Timedelta(days=1))
    pieces = explode_months(periods, "period_start", "last_day")
    pieces["piece_start"] = np.maximum(pieces["period_start"], pieces["month_start"])
    pieces["piece_end"] = np.minimum(
        pieces["period_end"], pieces["month_start"] + pd.DateOffset(months=1)
    )
    priced = pieces.merge(rates, on="driver")
    priced = priced[
        (priced[valid_from] < priced["piece_end"]) & (priced["valid_until"] > priced["piece_start"])
    ].copy()
    priced["cost_date"] = np.maximum(priced["piece_start"], priced[valid_from])
    cost_end = np.minimum(priced["piece_end"], priced["valid_until"])
    return priced, cost_end


def _price(priced: pd.DataFrame, fx: pd.DataFrame, currency: str) -> pd.DataFrame:
    """quantity (micro-units) x rate (micro) rounded to the cent, then converted into the
    reporting currency (a rate without a currency is in it) and rounded again."""
    priced = priced.copy()
    priced["amount"] = round_div(
        priced["quantity_micro"].to_numpy() * priced["rate_micro"].to_numpy(), 10**10
    )
    priced["currency"] = priced["rate_currency"].fillna(currency)
    priced = with_rates(priced, "cost_date", fx)
    priced["amount"] = to_reporting(priced["amount"].to_numpy(), priced["fx_micro"])
    priced["month"] = month_of(priced["cost_date"])
    return priced[["account_id", "month", "cost_category", "amount"]]


def run(
    raw_dir: Path, out_dir: Path, reporting_currency: str | None = None, variant: str = "floor"
) -> dict[str, object]:
    from orchestration.settings import AS_OF_LATEST_DATA, DBT_PROJECT_DIR, PROJECT_ROOT, Settings

    settings = Settings.load()
    currency = reporting_currency or settings.reporting_currency
    as_of = None if settings.as_of_date == AS_OF_LATEST_DATA else pd.Timestamp(settings.as_of_date)
    started = time.perf_counter()
    if variant == "floor":
        from bench.pandas_floor import Config, compute_floor, write_floor

        rates = settings.activity_rates_file.resolve()
        shown = rates.relative_to(PROJECT_ROOT) if rates.is_relative_to(PROJECT_ROOT) else rates
        config = Config(
            currency=currency,
            rates_file=rates,
            rates_source_file=str(shown),
            categories_file=DBT_PROJECT_DIR / "seeds" / "cost_categories.csv",
            as_of=as_of,
        )
        write_floor(compute_floor(raw_dir, config), out_dir, config)
    else:
        kav, cts = compute(raw_dir, currency, settings.activity_rates_file, as_of)
        out_dir.mkdir(parents=True, exist_ok=True)
        kav.to_parquet(out_dir / "key_account_value.parquet", index=False)
        cts.to_parquet(out_dir / "cost_to_serve.parquet", index=False)
    return {
        "seconds": time.perf_counter() - started,
        "reporting_currency": currency,
        "variant": variant,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True, help="folder with <source>/*.csv")
    parser.add_argument("--out", type=Path, required=True, help="folder for the Parquet files")
    parser.add_argument("--currency", help="reporting currency (default: config/warehouse.yml)")
    parser.add_argument(
        "--variant",
        choices=("floor", "2marts"),
        default="floor",
        help="floor: the three published marts in the publication's layout (bench/pandas_floor.py, "
        "default); 2marts: the two marts of the earlier runs",
    )
    args = parser.parse_args(argv)
    print(json.dumps(run(args.raw, args.out, args.currency, args.variant)))


if __name__ == "__main__":
    main()
