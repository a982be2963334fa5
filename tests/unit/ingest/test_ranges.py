"""Ranges: a number the declared type cannot hold, and amounts whose product or conversion would
overflow downstream, are quarantined at ingest with the bound in the reason."""

from decimal import Decimal

import duckdb
import pytest

from orchestration.ingest.load import ingest_source
from orchestration.ingest.ranges import column_max, conversion_bound, german
from orchestration.sources.contracts import Column, load_contracts
from tests.conftest import INVOICE_HEADER


def col(type_: str) -> Column:
    return Column(name="v", type=type_, description="x")


@pytest.mark.parametrize(
    ("type_", "shown"),
    [
        ("decimal(12,3)", "999.999.999,999"),
        ("decimal(18,2)", "9.999.999.999.999.999,99"),
        ("integer", "9.223.372.036.854.775.807"),
    ],
)
def test_the_range_of_a_type(type_, shown):
    c = col(type_)
    assert german(column_max(c), c.scale) == shown


def test_a_cent_amount_times_a_rate_stays_below_ten_billion():
    assert conversion_bound(col("decimal(18,6)")) == Decimal(10) ** 10


def quarantined(settings) -> dict[int, str]:
    rows = duckdb.execute(
        "SELECT source_row, reason FROM read_parquet(?)",
        [settings.quarantine_glob("invoice_lines")],
    ).fetchall()
    return dict(rows)


def test_out_of_range_values_are_quarantined_before_dbt_sees_them(
    settings, base_sources, write_raw
):
    write_raw(
        "invoice_lines",
        "2024-01.csv",
        INVOICE_HEADER
        + "R1;1;05.01.2024;C1;P1;1.000.000.000.000,000;1.000.000,0000;CHF;invoice;1;04.02.2024;\n"
        + "R1;2;05.01.2024;C1;P1;1.000.000.000.000.000,000;1;CHF;invoice;1;04.02.2024;\n"
        + "R1;3;05.01.2024;C1;P1;99.999;100.000,0000;CHF;invoice;1;04.02.2024;\n"
        + "R2;1;05.01.2024;C2;P1;100.000.000;150,0000;EUR;invoice;1;04.02.2024;\n"
        + "R2;2;05.01.2024;C2;P1;10.000.000;150,0000;EUR;invoice;1;04.02.2024;\n"
        + "R3;1;05.01.2024;C1;P1;9.999.999,999;1.000;CHF;invoice;1;04.02.2024;\n",  # 1e10 CHF
    )
    contracts = load_contracts()
    for name in ("exchange_rates", "customers", "invoice_lines"):
        result = ingest_source(contracts[name], settings)
    assert (result.raw_rows, result.accepted_rows, result.quarantined_rows) == (6, 2, 4)
    reasons = quarantined(settings)
    assert reasons[1].split("; ") == [
        "amount out of range in quantity x unit_price: 1.000.000.000.000.000.000,00 (must stay "
        "below 100.000.000.000: DuckDB multiplies decimal(18,3) x decimal(18,4) in 18 digits)",
        "amount out of range in quantity x standard_cost_per_unit: 1.000.000.000.000,00 (must "
        "stay below 100.000.000.000: DuckDB multiplies decimal(18,3) x decimal(18,4) in 18 digits)",
    ]
    assert reasons[2] == (
        'number out of range in quantity: "1.000.000.000.000.000,000" '
        "(at most 999.999.999.999.999,999 for decimal(18,3))"
    )
    assert reasons[4] == (
        "amount out of range for conversion in quantity x unit_price: 15.000.000.000,00 EUR "
        "(at up to 0,950000 CHF per EUR it must stay below 10.000.000.000 CHF: cents x "
        "decimal(18,6) rates are computed in 18 digits)"
    )
    assert reasons[6] == (
        "amount out of range for conversion in quantity x unit_price: 9.999.999.999,00 CHF "
        "(it must stay below 10.000.000.000 CHF: cents x decimal(18,6) rates are computed in 18 "
        "digits)"
    )
    # accepted rows are computable downstream: the products dbt forms do not overflow
    with duckdb.connect() as con:
        con.execute(
            "SELECT sum(round(round(quantity * unit_price, 2) * 0.95::DECIMAL(18,6), 2)) "
            "FROM read_parquet(?)",
            [settings.accepted_glob("invoice_lines")],
        ).fetchall()
