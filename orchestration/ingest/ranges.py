"""Value ranges: what a declared type holds, and which products of a row stay computable.

DuckDB multiplies two DECIMALs of at most 18 digits in 64 bits, as DECIMAL(18, s1 + s2): the
product overflows once it reaches 10^(18 - s1 - s2), and dbt stops. The amounts a source declares
(`amounts:` in sources/*.yml, or its cost section's amount) are the products and sums the
warehouse computes from a row; a row whose amount could overflow there is quarantined at ingest,
with the bound in the reason. Bounds are compared in DOUBLE with a margin of 1e-9 (the wide
product would cost far more): a row is accepted only when its amount is safely inside.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from orchestration.duck import quote_ident
from orchestration.sources.contracts import Column, SourceContract, terms_of

NARROW = 18  # digits DuckDB keeps in 64 bits
MARGIN = 1 - 1e-9
MONEY_SCALE = 2  # amounts are rounded to the cent (DECIMAL(18, 2)) before conversion


def german(value: Decimal | int, scale: int = 0) -> str:
    """1234567.5 -> '1.234.567,50' (scale 2)."""
    text = f"{value:,.{scale}f}" if scale else f"{value:,}"
    return text.translate(str.maketrans(",.", ".,"))


def column_max(col: Column) -> Decimal | int:
    """The largest value the column's type holds: 999.999,999 for decimal(9,3)."""
    if col.type == "integer":
        return 2**63 - 1
    return Decimal(10) ** (col.precision - col.scale) - Decimal(10) ** -col.scale


def out_of_range_sql(col: Column, shown: str) -> str:
    """The reason (an SQL expression) for a well-formed number the column's type cannot hold."""
    kind = "a whole number" if col.type == "integer" else col.type
    return (
        f"'number out of range in {col.name}: ' || {shown} || ' (at most "
        f"{german(column_max(col), col.scale)} for {kind})'"
    )


def _product_bounds(cols: list[Column]) -> list[tuple[int, Decimal]]:
    """(number of leading factors, bound) for each partial product DuckDB computes."""
    width, scale, out = cols[0].precision, cols[0].scale, []
    for i, col in enumerate(cols[1:], start=2):
        narrow = width <= NARROW and col.precision <= NARROW
        width, scale = NARROW if narrow else min(38, width + col.precision), scale + col.scale
        out.append((i, Decimal(10) ** (width - scale)))
    return out


def product_problems(contract: SourceContract, value: Callable[[str], str]) -> list[str]:
    """Problem expressions: a product term of an amount that would overflow downstream.

    `value(column)` is the SQL of the column's typed value."""
    out, seen = [], set()
    for amount in contract.money_amounts:
        for term in terms_of(amount):
            for n, bound in _product_bounds([contract.column(c) for c in term]):
                factors = term[:n]
                if tuple(factors) in seen:
                    continue
                seen.add(tuple(factors))
                product = " * ".join(f"CAST({value(c)} AS DOUBLE)" for c in factors)
                out.append(
                    f"CASE WHEN abs({product}) >= {float(bound) * MARGIN!r} THEN "
                    f"'amount out of range in {' x '.join(factors)}: ' || {german_sql(product)} "
                    f"|| ' (must stay below {german(bound)}: DuckDB multiplies "
                    f"{' x '.join(contract.column(c).type for c in factors)} in 18 digits)' END"
                )
    return out


def german_sql(expr: str, scale: int = 2) -> str:
    """SQL: a number formatted the German way, 1.234.567,89."""
    return f"translate(format('{{:,.{scale}f}}', {expr}), ',.', '.,')"


def amount_sql(amount: str, value: Callable[[str], str] = quote_ident) -> str:
    """SQL (DOUBLE) of an amount: its terms, missing values counting 0 as downstream."""
    terms = (" * ".join(f"CAST({value(c)} AS DOUBLE)" for c in t) for t in terms_of(amount))
    return " + ".join(f"coalesce({t}, 0)" for t in terms)


def conversion_bound(rate: Column) -> Decimal:
    """A cent amount (DECIMAL(18, 2)) times a rate of this type stays below this (narrow)."""
    return Decimal(10) ** (NARROW - MONEY_SCALE - rate.scale)
