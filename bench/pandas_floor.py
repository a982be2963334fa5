"""pandas baseline, the fair floor: what a user of the product gets at minimum, in pandas.

The same work as bench/bare_duckdb.sql, written the way of bench/pandas_baseline.py (read_csv per
file, merge, merge_asof, groupby; money in integer cents, quantities and rates in integer
micro-units, no row-wise Python): key_account_value, and cost_to_serve and cost_lines one Parquet
file per month (`cost_lines/2025-01.parquet`), with the columns and types the product publishes
(money as DECIMAL(18, 2), dates as DATE), the lineage of every cost line (its raw file and data
row, its catalogue row) and its detail text included. Parquet is written with pyarrow, money
turned from integer cents into decimals without a detour through floats.

Run through bench/pandas_baseline.py (`--variant floor`, the default).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench.pandas_baseline import (
    DATE,
    DEDUCTION_TYPES,
    FAR_FUTURE,
    GERMAN,
    MICRO,
    deductions_by_month,
    fx_and_accounts,
    month_of,
    receivable_pieces,
    round_div,
    to_int,
    to_reporting,
    with_rates,
)

PARQUET = {"compression": "zstd", "compression_level": 1}
# The published columns, in order: name -> type ("str", "date", "int", or (precision, scale) of
# a decimal whose values the frame holds in integer units of 10**-scale).
COST_LINES = {
    "cost_line_id": "str",
    "account_id": "str",
    "customer_id": "str",
    "month": "date",
    "cost_date": "date",
    "cost_category": "str",
    "cost_category_label": "str",
    "allocation": "str",
    "activity": "str",
    "driver": "str",
    "driver_quantity": (24, 6),
    "rate": (18, 6),
    "rate_currency": "str",
    "rate_valid_from": "date",
    "rate_source_file": "str",
    "rate_source_row": "int",
    "currency": "str",
    "amount_document_currency": (18, 2),
    "fx_rate": (18, 6),
    "reporting_currency": "str",
    "amount": (18, 2),
    "source_name": "str",
    "source_id": "str",
    "source_file": "str",
    "source_row": "int",
    "detail": "str",
}
COST_TO_SERVE = {
    "account_id": "str",
    "month": "date",
    "cost_category": "str",
    "cost_category_label": "str",
    "reporting_currency": "str",
    "amount": (18, 2),
    "direct_amount": (18, 2),
    "allocated_amount": (18, 2),
    "cost_line_count": "int",
}
KEY_ACCOUNT_VALUE = {
    "account_id": "str",
    "month": "date",
    "reporting_currency": "str",
    "gross_revenue": (18, 2),
    **{c: (18, 2) for c in DEDUCTION_TYPES.values()},
    "revenue_deductions": (18, 2),
    "net_revenue": (18, 2),
    "cogs": (18, 2),
    "gross_margin": (18, 2),
    "relationship_costs": (18, 2),
    "key_account_value": (18, 2),
}
# Every cost line part is built with these columns (the rest are added per month file: finish()).
PART = [
    "account_id",
    "customer_id",
    "cost_date",
    "cost_category",
    "allocation",
    "activity",
    "driver",
    "driver_quantity",
    "rate",
    "rate_currency",
    "rate_valid_from",
    "rate_source_row",
    "currency",
    "amount_document_currency",
    "fx_rate",
    "amount",
    "source_name",
    "source_id",
    "source_file",
    "source_row",
    "detail",
]


# Texts repeated over many lines, held as categoricals.
CATEGORICAL = [
    "account_id",
    "customer_id",
    "cost_category",
    "allocation",
    "activity",
    "driver",
    "rate_currency",
    "currency",
    "source_name",
    "source_file",
]


@dataclass(frozen=True)
class Config:
    currency: str  # reporting currency
    rates_file: Path  # the activity catalogue
    rates_source_file: str  # its name in the cost lines
    categories_file: Path  # the cost category labels (dbt seed)
    as_of: pd.Timestamp | None  # None: the latest date in the data

    @cached_property
    def labels(self) -> pd.Series:
        """cost_category -> label (the seed, read once)."""
        seed = pd.read_csv(self.categories_file, dtype=str)
        return seed.set_index("cost_category")["label"]


@dataclass(frozen=True)
class Floor:
    key_account_value: pd.DataFrame
    cost_to_serve: pd.DataFrame
    cost_lines: list[pd.DataFrame]  # in parts (direct, driver volumes, receivables), see slim()


@dataclass(frozen=True)
class Origins:
    """The files of a source, in name order: where row number `o` (counted over them all) is."""

    starts: np.ndarray  # o of each file's first row
    names: np.ndarray  # "<source>/<file>.csv", as the ingest names them

    def locate(self, o: pd.Series) -> tuple[pd.Series, np.ndarray]:
        """(source_file, source_row) of the rows numbered `o`."""
        idx = np.searchsorted(self.starts, o.to_numpy(), side="right") - 1
        source_file = pd.Series(self.names[idx], index=o.index, dtype="str")
        return source_file, o.to_numpy() - self.starts[idx] + 1


def read_rows(folder: Path, **kwargs) -> tuple[pd.DataFrame, Origins]:
    """Like read(), with `o`, each row's number among all rows read (files in name order)."""
    frames, starts, names, o = [], [], [], 1
    for f in sorted(folder.glob("*.csv")):
        df = pd.read_csv(f, **GERMAN, **kwargs)
        df["o"] = np.arange(o, o + len(df), dtype="int64")
        starts.append(o)
        names.append(f"{folder.name}/{f.name}")
        o += len(df)
        frames.append(df)
    origins = Origins(np.asarray(starts, dtype="int64"), np.asarray(names, dtype=object))
    return pd.concat(frames, ignore_index=True), origins


def text(units: pd.Series | np.ndarray, scale: int) -> pd.Series:
    """Integer units of 10**-scale as DuckDB writes the DECIMAL (e.g. 1550, 2 -> "15.50");
    missing stays missing."""
    s = pd.Series(units).astype("Int64")
    whole = (s.abs() // 10**scale).astype("str")
    frac = (s.abs() % 10**scale).astype("str").str.zfill(scale)
    sign = pd.Series(np.where(s.fillna(0) < 0, "-", ""), index=s.index, dtype="str")
    return sign + whole + "." + frac


def dates_text(dates: pd.Series, fmt: str) -> pd.Series:
    """strftime of a date column, each distinct date formatted once."""
    codes, uniques = pd.factorize(dates)
    shown = np.asarray(uniques.strftime(fmt), dtype=object)
    return pd.Series(shown[codes], index=dates.index, dtype="str")


def compute_floor(raw: Path, config: Config) -> Floor:
    """The three marts, money in integer cents."""
    currency = config.currency
    fx, accounts = fx_and_accounts(raw, currency)

    lines, invoice_files = read_rows(
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
        dtype={"invoice_number": str, "customer_id": str, "currency": str, "document_type": str},
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
    # One row per document and terms (int_invoice_documents), with its first line.
    documents = lines.groupby(
        [
            "invoice_number",
            "document_type",
            "invoice_date",
            "account_id",
            "customer_id",
            "due_date",
            "payment_date",
        ],
        dropna=False,
        as_index=False,
    ).agg(
        line_count=("o", "size"),
        gross_revenue=("gross_revenue", "sum"),
        o=("o", "min"),
    )
    as_of = config.as_of
    if as_of is None:
        as_of = max(lines["invoice_date"].max(), lines["payment_date"].max())
    del lines

    deductions = deductions_by_month(raw, accounts, fx, revenue)
    rates = read_catalogue(config.rates_file)
    # The cost lines stay in their three parts, each slimmed as soon as it is built: the month
    # files are assembled from them one month at a time (write_floor).
    parts = [slim(direct_lines(raw, accounts, fx), config)]
    parts.append(
        slim(driver_lines(raw, accounts, fx, documents, invoice_files, rates, currency), config)
    )
    parts.append(
        slim(financing_lines(documents, invoice_files, rates, fx, currency, as_of), config)
    )
    del documents
    cost_to_serve = serve(parts, config)
    relationship = cost_to_serve.groupby(["account_id", "month"], as_index=False)["amount"].sum()
    relationship = relationship.rename(columns={"amount": "relationship_costs"})

    kav = revenue.merge(deductions, on=["account_id", "month"], how="outer")
    kav = kav.merge(relationship, on=["account_id", "month"], how="outer")
    money = ["gross_revenue", "cogs", *DEDUCTION_TYPES.values(), "relationship_costs"]
    kav[money] = kav[money].fillna(0).astype("int64")
    kav["revenue_deductions"] = kav[list(DEDUCTION_TYPES.values())].sum(axis=1)
    kav["net_revenue"] = kav["gross_revenue"] - kav["revenue_deductions"]
    kav["gross_margin"] = kav["net_revenue"] - kav["cogs"]
    kav["key_account_value"] = kav["gross_margin"] - kav["relationship_costs"]
    kav["reporting_currency"] = currency
    return Floor(kav, cost_to_serve, parts)


def read_catalogue(rates_file: Path) -> pd.DataFrame:
    """The activity catalogue with the row of every rate (1 = the first data row)."""
    rates = pd.read_csv(
        rates_file, parse_dates=["valid_from", "valid_to"], dtype={"rate": str, "currency": str}
    )
    rates["rate_source_row"] = np.arange(1, len(rates) + 1, dtype="int64")
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
            "rate_source_row",
        ]
    ].rename(columns={"currency": "rate_currency", "valid_from": "rate_valid_from"})


def direct_lines(raw: Path, accounts: pd.DataFrame, fx: pd.DataFrame) -> pd.DataFrame:
    """Service tickets, visits and marketing bookings (each term rounded to the cent), with the
    detail texts of the generated staging models stg_cost__<source>."""
    ids = {"customer_id": str, "currency": str}

    def optional(prefix: str, values: pd.Series, suffix: str = "") -> pd.Series:
        return (prefix + values + suffix).fillna("")

    svc, svc_files = read_rows(
        raw / "service_logs",
        dtype={**ids, "ticket_id": str, "cost_category": str, "description": str},
        parse_dates=["service_date"],
        date_format=DATE,
    )
    hours, rate = to_int(svc["hours"], 2), to_int(svc["hourly_rate"], 2)
    material = pd.Series(to_int(svc["material_amount"].fillna(0), 2), index=svc.index)
    svc["amount"] = round_div(hours * rate, 100) + material.to_numpy()
    svc["source_name"], svc["source_id"] = "service_logs", svc["ticket_id"]
    svc["detail"] = (
        "ticket "
        + svc["ticket_id"]
        + ": "
        + text(hours, 2)
        + " h x "
        + text(rate, 2)
        + optional(" + material ", text(material.where(svc["material_amount"].notna()), 2))
        + " "
        + svc["currency"]
        + optional(" - ", svc["description"])
    )
    svc["source_file"], svc["source_row"] = svc_files.locate(svc["o"])
    svc = svc.rename(columns={"service_date": "cost_date"})

    vis, vis_files = read_rows(
        raw / "visit_costs",
        dtype={**ids, "visit_id": str, "employee": str, "purpose": str},
        parse_dates=["visit_date"],
        date_format=DATE,
    )
    hours, rate = to_int(vis["hours"], 2), to_int(vis["hourly_rate"], 2)
    travel = pd.Series(to_int(vis["travel_amount"].fillna(0), 2), index=vis.index)
    expense = pd.Series(to_int(vis["expense_amount"].fillna(0), 2), index=vis.index)
    vis["amount"] = round_div(hours * rate, 100) + travel.to_numpy() + expense.to_numpy()
    vis["cost_category"] = "consulting_and_visits"
    vis["source_name"], vis["source_id"] = "visit_costs", vis["visit_id"]
    vis["detail"] = (
        "visit "
        + vis["visit_id"]
        + " by "
        + vis["employee"]
        + ": "
        + text(hours, 2)
        + " h x "
        + text(rate, 2)
        + optional(" + travel ", text(travel.where(vis["travel_amount"].notna()), 2))
        + optional(" + expenses ", text(expense.where(vis["expense_amount"].notna()), 2))
        + " "
        + vis["currency"]
        + optional(" - ", vis["purpose"])
    )
    vis["source_file"], vis["source_row"] = vis_files.locate(vis["o"])
    vis = vis.rename(columns={"visit_date": "cost_date"})

    mkt, mkt_files = read_rows(
        raw / "marketing_bookings",
        dtype={**ids, "booking_id": str, "cost_category": str, "campaign": str, "vendor": str},
        parse_dates=["booking_date"],
        date_format=DATE,
    )
    mkt["amount"] = to_int(mkt["amount"], 2)
    mkt["source_name"], mkt["source_id"] = "marketing_bookings", mkt["booking_id"]
    mkt["detail"] = (
        "booking "
        + mkt["booking_id"]
        + optional(": ", mkt["campaign"])
        + optional(" (", mkt["vendor"], ")")
    )
    mkt["source_file"], mkt["source_row"] = mkt_files.locate(mkt["o"])
    mkt = mkt.rename(columns={"booking_date": "cost_date"})

    cols = [
        "customer_id",
        "cost_date",
        "cost_category",
        "currency",
        "amount",
        "source_name",
        "source_id",
        "source_file",
        "source_row",
        "detail",
    ]
    bookings = pd.concat([svc[cols], vis[cols], mkt[cols]], ignore_index=True)
    bookings = with_rates(bookings.merge(accounts, on="customer_id"), "cost_date", fx)
    bookings["amount_document_currency"] = bookings["amount"]
    bookings["amount"] = to_reporting(bookings["amount"].to_numpy(), bookings["fx_micro"])
    bookings = bookings.rename(columns={"fx_micro": "fx_rate"})
    bookings["allocation"] = "direct"
    for col in ("activity", "driver", "rate_currency"):
        bookings[col] = pd.Series(pd.NA, index=bookings.index, dtype="str")
    for col in ("driver_quantity", "rate", "rate_source_row"):
        bookings[col] = pd.Series(pd.NA, index=bookings.index, dtype="Int64")
    bookings["rate_valid_from"] = pd.NaT
    return bookings[PART]


def driver_lines(
    raw: Path,
    accounts: pd.DataFrame,
    fx: pd.DataFrame,
    documents: pd.DataFrame,
    invoice_files: Origins,
    rates: pd.DataFrame,
    currency: str,
) -> pd.DataFrame:
    """Time-driven activity-based costing: driver volume x the rate valid on the activity date,
    one line per volume and activity, with the raw row of the volume and a detail text."""
    # One row per document (a document whose lines differ in terms has several in documents).
    docs = documents.groupby(
        ["invoice_number", "document_type", "invoice_date", "customer_id"], as_index=False
    ).agg(line_count=("line_count", "sum"), o=("o", "min"))
    docs["source_file"], docs["source_row"] = invoice_files.locate(docs["o"])
    count = docs["line_count"].astype("str")
    inv, cn = docs["document_type"] == "invoice", docs["document_type"] == "credit_note"
    shp, shp_files = read_rows(
        raw / "shipments",
        dtype={
            "shipment_id": str,
            "customer_id": str,
            "invoice_number": str,
            "service_level": str,
        },
        parse_dates=["ship_date"],
        date_format=DATE,
    )
    shp["source_file"], shp["source_row"] = shp_files.locate(shp["o"])
    kg = to_int(shp["weight_kg"], 1)
    quo, quo_files = read_rows(
        raw / "quotations",
        dtype={"quote_id": str, "customer_id": str, "quote_type": str, "description": str},
        parse_dates=["quote_date"],
        date_format=DATE,
    )
    quo["source_file"], quo["source_row"] = quo_files.locate(quo["o"])
    hours = to_int(quo["hours"], 2)
    express = shp["service_level"] == "express"

    def part(driver, frame, date, quantity_micro, source, source_id, detail) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "driver": driver,
                "cost_date": frame[date],
                "customer_id": frame["customer_id"],
                "driver_quantity": quantity_micro,
                "source_name": source,
                "source_id": frame[source_id],
                "source_file": frame["source_file"],
                "source_row": frame["source_row"],
                "detail": detail,
            }
        )

    number = docs["invoice_number"]
    volumes = pd.concat(
        [
            part(
                "orders",
                docs[inv],
                "invoice_date",
                MICRO,
                "invoice_lines",
                "invoice_number",
                "invoice " + number[inv] + ": 1 order",
            ),
            part(
                "order_lines",
                docs[inv],
                "invoice_date",
                docs.loc[inv, "line_count"] * MICRO,
                "invoice_lines",
                "invoice_number",
                "invoice " + number[inv] + ": " + count[inv] + " order line(s)",
            ),
            part(
                "credit_notes",
                docs[cn],
                "invoice_date",
                MICRO,
                "invoice_lines",
                "invoice_number",
                "credit note " + number[cn] + " (" + count[cn] + " line(s))",
            ),
            part(
                "shipments",
                shp,
                "ship_date",
                MICRO,
                "shipments",
                "shipment_id",
                "shipment "
                + shp["shipment_id"]
                + (" for invoice " + shp["invoice_number"]).fillna(""),
            ),
            part(
                "express_shipments",
                shp[express],
                "ship_date",
                MICRO,
                "shipments",
                "shipment_id",
                "express shipment " + shp.loc[express, "shipment_id"],
            ),
            part(
                "shipped_kg",
                shp,
                "ship_date",
                kg * 100_000,
                "shipments",
                "shipment_id",
                "shipment " + shp["shipment_id"] + ": " + text(kg, 1).to_numpy() + " kg shipped",
            ),
            part(
                np.where(quo["quote_type"] == "tender", "tender_hours", "quote_hours"),
                quo,
                "quote_date",
                hours * 10_000,
                "quotations",
                "quote_id",
                quo["quote_type"]
                + " "
                + quo["quote_id"]
                + ": "
                + text(hours, 2).to_numpy()
                + " h"
                + (" - " + quo["description"]).fillna(""),
            ),
        ],
        ignore_index=True,
    )
    volumes = volumes[volumes["driver_quantity"] > 0].merge(accounts, on="customer_id")
    priced = volumes.merge(rates, on="driver")
    priced = priced[
        (priced["cost_date"] >= priced["rate_valid_from"])
        & (priced["cost_date"] < priced["valid_until"])
    ]
    return price_lines(priced, fx, currency)


def financing_lines(
    documents: pd.DataFrame,
    invoice_files: Origins,
    rates: pd.DataFrame,
    fx: pd.DataFrame,
    currency: str,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Receivable x days / 365 x annual rate, within terms and late, cut at month ends and at
    rate changes; open invoices until the as-of date. One line per piece and rate."""
    inv = documents[
        (documents["document_type"] == "invoice") & (documents["gross_revenue"] > 0)
    ].rename(columns={"gross_revenue": "receivable"})
    settled = inv["payment_date"].fillna(as_of).clip(upper=as_of)
    inv = inv.assign(is_open=inv["payment_date"].isna() | (inv["payment_date"] > as_of))
    priced, cost_end = receivable_pieces(inv, settled, rates, valid_from="rate_valid_from")
    days = (cost_end - priced["cost_date"]).dt.days
    cents = priced["receivable"].to_numpy()
    # receivable-years in micro-units, rounded half up: floor((2 x cents x days x 10^4 + 365) / 730)
    priced["driver_quantity"] = (2 * cents * days.to_numpy() * 10_000 + 365) // 730
    late = priced["driver"] == "receivable_years_late"
    due = dates_text(priced["due_date"], "%d.%m.%Y")
    priced["detail"] = (
        "invoice "
        + priced["invoice_number"]
        + ": receivable "
        + text(cents, 2).to_numpy()
        + f" {currency} x "
        + days.astype("str")
        + " day(s) "
        + dates_text(priced["cost_date"], "%d.%m.%Y")
        + "-"
        + dates_text(cost_end - pd.Timedelta(days=1), "%d.%m.%Y")
        + pd.Series(
            np.where(late, " past due date " + due, " within terms (due " + due + ")"),
            index=priced.index,
            dtype="str",
        )
        + pd.Series(np.where(priced["is_open"], ", unpaid", ""), index=priced.index, dtype="str")
        + " / 365"
    )
    priced["source_name"], priced["source_id"] = "invoice_lines", priced["invoice_number"]
    priced["source_file"], priced["source_row"] = invoice_files.locate(priced["o"])
    return price_lines(priced, fx, currency)


def price_lines(priced: pd.DataFrame, fx: pd.DataFrame, currency: str) -> pd.DataFrame:
    """quantity (micro-units) x rate (micro) rounded to the cent in the rate's currency, then
    converted into the reporting currency (a rate without a currency is in it), rounded again."""
    priced = priced.rename(columns={"rate_micro": "rate"})
    priced["amount_document_currency"] = round_div(
        priced["driver_quantity"].to_numpy() * priced["rate"].to_numpy(), 10**10
    )
    priced["currency"] = priced["rate_currency"].fillna(currency)
    priced = with_rates(priced, "cost_date", fx).rename(columns={"fx_micro": "fx_rate"})
    priced["amount"] = to_reporting(
        priced["amount_document_currency"].to_numpy(), priced["fx_rate"]
    )
    priced["allocation"] = "activity"
    return priced[PART]


def slim(part: pd.DataFrame, config: Config) -> pd.DataFrame:
    """A part of the cost lines with its month, id and category label; its repeated texts as
    categoricals."""
    part["month"] = month_of(part["cost_date"])
    receivable = part["driver"].str.startswith("receivable_years").fillna(False)
    part["cost_line_id"] = (
        part["source_name"]
        + ":"
        + part["source_id"]
        + (":" + part["activity"]).fillna("")
        + pd.Series(
            np.where(receivable, ":" + dates_text(part["cost_date"], "%Y-%m-%d"), ""),
            index=part.index,
            dtype="str",
        )
    )
    for col in CATEGORICAL:
        part[col] = part[col].astype("category")
    part["cost_category_label"] = part["cost_category"].map(config.labels)
    return part


def serve(parts: list[pd.DataFrame], config: Config) -> pd.DataFrame:
    """cost_to_serve: the cost lines summed by account, month and category."""
    keys = ["account_id", "month", "cost_category", "allocation"]
    sums = pd.concat(
        [
            part.groupby(keys, observed=True)["amount"]
            .agg(["sum", "size"])
            .reset_index()
            .astype({"account_id": "str", "cost_category": "str", "allocation": "str"})
            for part in parts
        ],
        ignore_index=True,
    )
    direct = sums["allocation"] == "direct"
    out = (
        sums.assign(
            direct_amount=sums["sum"].where(direct, 0),
            allocated_amount=sums["sum"].where(~direct, 0),
        )
        .groupby(keys[:3], as_index=False)
        .agg(
            amount=("sum", "sum"),
            direct_amount=("direct_amount", "sum"),
            allocated_amount=("allocated_amount", "sum"),
            cost_line_count=("size", "sum"),
        )
    )
    out["cost_category_label"] = out["cost_category"].map(config.labels).astype("str")
    out["reporting_currency"] = config.currency
    return out


def finish(lines: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The columns that are the same on every line of a kind: currency, catalogue file."""
    lines["reporting_currency"] = config.currency
    activity = lines["allocation"] == "activity"
    lines["rate_source_file"] = pd.Series(
        np.where(activity, config.rates_source_file, None), index=lines.index, dtype="str"
    )
    return lines


def arrow_table(df: pd.DataFrame, columns: dict[str, object]) -> pa.Table:
    """The frame with the published types: integer units become decimals exactly."""
    arrays = []
    for name, kind in columns.items():
        s = df[name]
        if kind == "str" and isinstance(s.dtype, pd.CategoricalDtype):
            # written as a dictionary column: a text column to every Parquet reader
            arrays.append(pa.array(s).cast(pa.dictionary(pa.int32(), pa.string())))
        elif kind == "str":
            arrays.append(pa.array(s, type=pa.string(), from_pandas=True))
        elif kind == "date":
            arrays.append(pa.array(s, from_pandas=True).cast(pa.date32()))
        elif kind == "int":
            arrays.append(pa.array(s.astype("Int64"), type=pa.int64(), from_pandas=True))
        else:
            arrays.append(decimals(s, *kind))
    return pa.Table.from_arrays(arrays, names=list(columns))


def decimals(units: pd.Series, precision: int, scale: int) -> pa.Array:
    """Integer units of 10**-scale as DECIMAL(precision, scale), built from the 128-bit values."""
    s = units.astype("Int64")
    values = s.to_numpy(dtype="int64", na_value=0)
    wide = np.empty((len(values), 2), dtype="int64")
    wide[:, 0], wide[:, 1] = values, values >> 63  # little-endian 128-bit two's complement
    valid = s.notna().to_numpy()
    bitmap = None if valid.all() else pa.array(valid).buffers()[1]
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), len(values), [bitmap, pa.py_buffer(wide)]
    )


def write_floor(floor: Floor, out_dir: Path, config: Config) -> None:
    """key_account_value.parquet, and cost_to_serve and cost_lines one file per month; a month
    of cost lines is assembled from the parts' rows of that month."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        arrow_table(floor.key_account_value, KEY_ACCOUNT_VALUE),
        out_dir / "key_account_value.parquet",
        **PARQUET,
    )
    (out_dir / "cost_to_serve").mkdir(exist_ok=True)
    for month, part in floor.cost_to_serve.groupby("month", sort=True):
        path = out_dir / "cost_to_serve" / f"{month:%Y-%m}.parquet"
        pq.write_table(arrow_table(part, COST_TO_SERVE), path, **PARQUET)
    (out_dir / "cost_lines").mkdir(exist_ok=True)
    rows = [
        {pd.Timestamp(m): i for m, i in part.groupby("month", observed=True).indices.items()}
        for part in floor.cost_lines
    ]
    for month in sorted(set().union(*rows)):
        tables = [
            arrow_table(finish(part.take(r[month]), config), COST_LINES)
            for part, r in zip(floor.cost_lines, rows, strict=True)
            if month in r
        ]
        path = out_dir / "cost_lines" / f"{month:%Y-%m}.parquet"
        pq.write_table(pa.concat_tables(tables), path, **PARQUET)
