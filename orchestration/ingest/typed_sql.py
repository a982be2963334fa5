"""SQL expressions that turn raw text (German ERP CSV) or native Parquet values into typed values.

Each declared column yields a typed expression and a list of problem expressions that are NULL
when the value is fine and a human-readable reason otherwise. Everything runs inside DuckDB.
"""

from __future__ import annotations

from orchestration.duck import quote_ident, quote_literal
from orchestration.ingest.file_rules import (
    PLAIN_CSV,
    FileRules,
    ambiguous_problem,
    date_window_problem,
    us_format_reason,
)
from orchestration.ingest.ranges import out_of_range_sql
from orchestration.sources.contracts import Column, cost_categories


def german_number_pattern(scale: int) -> str:
    """1.234.567,89 or 1234567,89; sign in front or SAP-style at the end; at most `scale` decimals
    (more would be rounded away silently, so such a value is rejected instead). A thousands
    mark needs a leading digit other than 0 (`0.250` is 0.25 written US-style, not 250)."""
    fraction = rf"(,\d{{1,{scale}}})?" if scale else ""
    return rf"^[+-]?([1-9]\d{{0,2}}(\.\d{{3}})+|\d+){fraction}-?$"


def plain_number_pattern(scale: int) -> str:
    """The subset of german_number_pattern without sign or thousands marks: 1234 or 1234,56."""
    return rf"\d+(,\d{{1,{scale}}})?" if scale else r"\d+"


def _text(raw: str) -> str:
    return f"NULLIF(TRIM({raw}), '')"


def typed_expr(col: Column, raw: str, fmt: str, text: str | None = None) -> str:
    """Expression giving the column's typed value (NULL when missing or unparseable).

    `text` may name an already computed `NULLIF(TRIM(raw), '')` (CSV only), so that a query
    computing many expressions over the same value trims it once.
    """
    t = col.duckdb_type
    if fmt == "parquet":
        if col.type in ("text", "currency", "cost_category"):
            return _normalize(col, text or _text(f"CAST({raw} AS VARCHAR)"))
        return f"TRY_CAST({raw} AS {t})"
    text = text or _text(raw)
    if col.is_numeric:
        # Fast path for the common spelling (digits, maybe a decimal comma): the general rule
        # would turn it into the same string, so only the cheaper rewrite differs.
        return (
            f"CASE WHEN regexp_full_match({text}, '{plain_number_pattern(col.scale)}') "
            f"THEN TRY_CAST(replace({text}, ',', '.') AS {t}) "
            f"WHEN regexp_full_match({text}, '{german_number_pattern(col.scale)}') THEN "
            f"TRY_CAST((CASE WHEN {text} LIKE '%-' THEN '-' ELSE '' END) || "
            f"replace(replace(rtrim({text}, '-'), '.', ''), ',', '.') AS {t}) END"
        )
    if col.type == "date":
        # Strict: exactly dd.mm.yyyy or yyyy-mm-dd (10 characters), so 5.3.2024 or 16.12.25 (a
        # two-digit year strptime would read as the year 25) are rejected, not guessed.
        return (
            f"CASE WHEN length({text}) = 10 THEN COALESCE(try_strptime({text}, '%d.%m.%Y'), "
            f"try_strptime({text}, '%Y-%m-%d'))::DATE END"
        )
    return _normalize(col, text)


def _normalize(col: Column, text: str) -> str:
    # Codes are case-insensitive (docs/data-contract.md): `chf` can only mean CHF, `Invoice` only
    # invoice; the canonical spelling is stored and then checked (ISO code, allowed set).
    if col.type == "currency":
        return f"UPPER({text})"
    if col.type == "cost_category" or col.allowed:
        return f"LOWER({text})"
    return text


def problem_exprs(
    col: Column,
    raw: str,
    typed: str,
    text: str | None = None,
    rules: FileRules = PLAIN_CSV,
) -> list[str]:
    """Expressions that are NULL when fine and a reason string when the value breaks a rule.

    `typed` is the typed value (an expression or a column holding it); `text` may name an
    already computed `NULLIF(TRIM(CAST(raw AS VARCHAR)), '')`; `rules` are the file's own.
    """
    name = col.name
    shown = f"'\"' || CAST({raw} AS VARCHAR) || '\"'"
    text = text or _text(f"CAST({raw} AS VARCHAR)")
    present = f"{text} IS NOT NULL"
    out = []
    if col.required:
        out.append(f"CASE WHEN NOT ({present}) THEN 'missing {name}' END")
    if col.type not in ("text", "currency", "cost_category"):
        kind = {"integer": "whole number", "date": "date (dd.mm.yyyy)"}.get(
            col.type, f"number (German format, at most {col.scale} decimals)"
        )
        reason = f"'unparseable {kind} in {name}: ' || {shown}"
        if col.is_numeric:
            reason = _number_reason(col, text, shown, rules.fmt, reason)
        out.append(f"CASE WHEN {present} AND {typed} IS NULL THEN {reason} END")
    if col.is_numeric and rules.us_numbers:
        out.append(ambiguous_problem(col, text, shown, rules.us_numbers))
    if col.type == "date" and rules.window is not None:
        out.append(date_window_problem(col, typed, shown, rules.window))
    if col.min is not None:
        op = "<=" if col.min_exclusive else "<"
        out.append(
            f"CASE WHEN {typed} {op} {col.min} THEN '{name} must be "
            f"{'>' if col.min_exclusive else '>='} {col.min:g}, got ' || CAST({typed} AS VARCHAR) END"
        )
    if col.max is not None:
        out.append(
            f"CASE WHEN {typed} > {col.max} "
            f"THEN '{name} must be <= {col.max:g}, got ' || CAST({typed} AS VARCHAR) END"
        )
    if col.type == "currency":
        out.append(
            f"CASE WHEN {typed} IS NOT NULL AND NOT regexp_full_match({typed}, '[A-Z]{{3}}') "
            f"THEN 'not an ISO currency code in {name}: ' || {shown} END"
        )
    allowed = col.allowed or (cost_categories() if col.type == "cost_category" else None)
    if allowed:
        values = ", ".join(quote_literal(v) for v in allowed)
        label = "cost category" if col.type == "cost_category" else "value"
        out.append(
            f"CASE WHEN {typed} IS NOT NULL AND {typed} NOT IN ({values}) "
            f"THEN 'unknown {label} in {name}: ' || {shown} END"
        )
    return out


def _number_reason(col: Column, text: str, shown: str, fmt: str, unparseable: str) -> str:
    """Why a number has no value: out of range (well-formed, too large for its type), written
    US-style (CSV), or unparseable."""
    if fmt == "parquet":
        well_formed = f"TRY_CAST({text} AS DOUBLE) IS NOT NULL"
        return f"CASE WHEN {well_formed} THEN {out_of_range_sql(col, shown)} ELSE {unparseable} END"
    well_formed = f"regexp_full_match({text}, '{german_number_pattern(col.scale)}')"
    return (
        f"CASE WHEN {well_formed} THEN {out_of_range_sql(col, shown)} "
        f"ELSE {us_format_reason(col, text, shown, unparseable)} END"
    )


def column_sql(
    col: Column, raw_name: str | None, rules: FileRules = PLAIN_CSV
) -> tuple[str, list[str]]:
    """(typed expression, problem expressions) for one declared column of one file."""
    raw = quote_ident(raw_name) if raw_name else "NULL::VARCHAR"
    typed = typed_expr(col, raw, rules.fmt)
    return typed, problem_exprs(col, raw, typed, rules=rules)
