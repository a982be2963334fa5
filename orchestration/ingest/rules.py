"""The rules that look beyond a row, applied across all parts of a source.

- references: a value must be among the accepted values of the referenced source;
- exchange rates: an amount needs a rate into the reporting currency on or before its date;
- duplicate keys: the first delivery of a key wins (files in path order, then row); an identical
  re-export is a duplicate, a different row under the same key a conflict; both are quarantined.

Their result is the *context* of a source: one row per raw row these rules reject, with the
reasons. A file's outputs depend only on its part and its context rows, so after a change only
files whose part or context changed are written again (load.py). The reference and rate rules
are row rules given the lookup tables: they are re-checked for new files, or for every file
when a lookup table changed; the duplicate rule is decided across all files on every change. Reasons come in this order:
the row's own problems (parse.py), unknown references, then, for an otherwise clean row, a
missing exchange rate; only clean rows take part in the duplicate rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.duck import quote_ident, quote_literal
from orchestration.ingest.plausibility import (
    create_reference_table,
    plausibility_problems,
    reference_columns,
)
from orchestration.ingest.ranges import MARGIN, amount_sql, conversion_bound, german, german_sql
from orchestration.ingest.readers import IngestError
from orchestration.settings import Settings
from orchestration.sources.contracts import (
    EXCHANGE_RATES,
    Column,
    SourceContract,
    load_contracts,
)

EXTRA_COLUMNS = "_file_key VARCHAR, _source_row BIGINT, _extra VARCHAR[]"


@dataclass(frozen=True)
class Lookups:
    """Small tables the rules join against, built once per source and run."""

    references: list[tuple[str, str, str]]  # (column, referenced source, lookup table)
    # table (currency, first_rate_date, max_rate): rates into the reporting currency
    rates: str | None
    rate_column: Column | None = None  # exchange_rates.rate: its type bounds conversions
    # table (_file_key, r0, ...) of the plausibility references, and the factor (plausibility.py)
    plausible: str | None = None
    factor: float | None = None

    def fingerprint(self, con: duckdb.DuckDBPyConnection) -> str:
        """Changes exactly when the content of a lookup table changes, or the factor. (The
        plausibility references are compared file by file: load.py re-checks the files whose
        reference moved.)"""
        tables = [t for _, _, t in self.references] + ([self.rates] if self.rates else [])
        parts = [
            str(con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {t} AS t").fetchone())
            for t in tables
        ]
        return "|".join(parts + ([f"plausibility x {self.factor}"] if self.plausible else []))


def create_lookups(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    settings: Settings,
    plausibility_refs: dict[str, dict] | None = None,
) -> Lookups:
    """Accepted values of referenced sources, the first rate date per currency, and the
    plausibility references of the source's files (file key -> value -> reference).

    A reference is unknown when its value is not among the referenced source's accepted
    non-null values in any of the reference's target columns. A rate exists on or before a date
    exactly when the first rate date is on or before it.
    """
    refs = []
    for i, ref in enumerate(contract.references):
        target = quote_literal(settings.accepted_glob(ref.source))
        table = f"_ref_{i}"
        known = " UNION ".join(
            f"SELECT {quote_ident(c)} AS v FROM read_parquet({target}) "
            f"WHERE {quote_ident(c)} IS NOT NULL"
            for c in ref.target_columns
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {known}")
        refs.append((ref.column, ref.source, table))
    rates, rate_column = None, None
    if contract.currency and contract.name != EXCHANGE_RATES:
        rate_column = load_contracts()[EXCHANGE_RATES].column("rate")
        path = quote_literal(settings.accepted_glob(EXCHANGE_RATES))
        rates = "_rates_into"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {rates} AS
            SELECT from_currency AS currency, min(rate_date) AS first_rate_date,
                   max(rate) AS max_rate
            FROM read_parquet({path})
            WHERE to_currency = {quote_literal(settings.reporting_currency)}
            GROUP BY ALL
            """
        )
    factor = settings.ingest.plausibility_factor
    plausible = None
    if contract.plausibility and factor and plausibility_refs is not None:
        plausible = create_reference_table(con, contract.plausibility, plausibility_refs)
    return Lookups(refs, rates, rate_column, plausible, factor)


def check_rows(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    settings: Settings,
    parts: list[Path],
    lookups: Lookups,
) -> None:
    """Insert into the temp table `_extra (_file_key, _source_row, _extra)` the rows of these
    parts that the reference and exchange-rate rules reject, with their reasons.

    Reads only the columns the rules need and keeps only the rejected rows: cheap at tens of
    millions of rows.
    """
    if not parts or not (lookups.references or lookups.rates or lookups.plausible):
        return
    joins, looked_up, ref_problems = [], [], []
    for i, (column, source, table) in enumerate(lookups.references):
        value, found = quote_ident(column), f"__kam_r{i}"
        joins.append(f"LEFT JOIN {table} AS _r{i} ON _r{i}.v = p.{value}")
        looked_up.append(f"_r{i}.v AS {found}")
        ref_problems.append(
            f"CASE WHEN {value} IS NOT NULL AND {found} IS NULL THEN 'unknown {column} ''' "
            f"|| {value} || ''' (not an accepted row of {source})' END"
        )
    row_problems = ["NULL::VARCHAR"]
    if lookups.rates:
        rule = contract.currency
        assert rule is not None
        cur, reporting = quote_ident(rule.column), quote_literal(settings.reporting_currency)
        if rule.date_column:
            day = quote_ident(rule.date_column)
            has_rate = f"coalesce(__kam_fx_first <= {day}, false)"
            detail = f"' on or before ' || strftime({day}, '%d.%m.%Y')"
        else:
            has_rate, detail = "__kam_fx_first IS NOT NULL", "''"
        joins.append(f"LEFT JOIN {lookups.rates} AS _fx ON _fx.currency = p.{cur}")
        looked_up += [
            "_fx.first_rate_date AS __kam_fx_first",
            f"CASE WHEN p.{cur} = {reporting} THEN 1 ELSE _fx.max_rate END AS __kam_fx_max",
        ]
        clean = f"len(_problems) = 0 AND len(__kam_refs) = 0 AND {cur} IS NOT NULL"
        row_problems = [
            f"CASE WHEN {clean} AND {cur} <> {reporting} AND NOT {has_rate} "
            f"THEN 'no exchange rate ' || {cur} || ' -> ' || {reporting} || {detail} END"
        ]
        assert lookups.rate_column is not None
        row_problems += conversion_problems(
            contract,
            cur,
            reporting,
            f"{clean} AND ({cur} = {reporting} OR {has_rate})",
            lookups.rate_column,
        )
    if lookups.plausible:
        assert lookups.factor is not None
        joins.append(
            f"LEFT JOIN {lookups.plausible} AS _pl "
            "ON _pl._file_key = parse_filename(p.filename, true)"
        )
        looked_up += reference_columns(contract, "_pl")
        row_problems += plausibility_problems(contract, lookups.factor)
    con.execute(
        f"""
        INSERT INTO _extra
        SELECT parse_filename(filename, true), _source_row, list_concat(__kam_refs, __kam_fx)
        FROM (
            SELECT *, list_filter(
                [{", ".join(row_problems)}]::VARCHAR[], lambda x: x IS NOT NULL
            ) AS __kam_fx
            FROM (
                SELECT *, list_filter(
                    [{", ".join(ref_problems) or "NULL"}]::VARCHAR[], lambda x: x IS NOT NULL
                ) AS __kam_refs
                FROM (
                    SELECT {", ".join(["p.*", *looked_up])}
                    FROM read_parquet({_files(parts)}, filename = true) AS p {" ".join(joins)}
                )
            )
        )
        WHERE len(__kam_refs) > 0 OR len(__kam_fx) > 0
        """
    )


def conversion_problems(
    contract: SourceContract, cur: str, reporting: str, has_rate: str, rate: Column
) -> list[str]:
    """An amount whose conversion (cents x rate, DECIMAL(18, 2) x the rate's type) would
    overflow downstream: checked at the currency's highest rate into the reporting currency."""
    bound = conversion_bound(rate)
    out = []
    for amount in contract.money_amounts:
        value = f"abs({amount_sql(amount)})"
        name = amount.replace(" * ", " x ")
        out.append(
            f"CASE WHEN {has_rate} AND {value} * __kam_fx_max >= {float(bound) * MARGIN!r} THEN "
            f"'amount out of range for conversion in {name}: ' || {german_sql(value)} || ' ' || "
            f"{cur} || ' (' || CASE WHEN {cur} = {reporting} THEN '' ELSE 'at up to ' || "
            f"replace(CAST(__kam_fx_max AS VARCHAR), '.', ',') || ' ' || {reporting} || ' per ' "
            f"|| {cur} || ' ' END || 'it must stay below {german(bound)} ' || {reporting} || "
            f"': cents x {rate.type} rates are computed in 18 digits)' END"
        )
    return out


def find_duplicates(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, parts: list[Path]
) -> None:
    """Create `_dupes (_file_key, _source_row, _identical, _duplicate)`: every clean row whose
    key a clean row delivered earlier (by raw file path, then row) has.

    Expects `_extra (_file_key, _source_row, ...)`, the rows other rules rejected (not clean),
    and `_files (_file_key, _source_file)`. Only rows whose key hash occurs more than once can
    be duplicates: one pass over the key columns finds those few rows, and only they are read
    in full and ordered exactly (by key, not by hash).
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _dupes "
        "(_file_key VARCHAR, _source_row BIGINT, _identical BOOLEAN, _duplicate VARCHAR)"
    )
    if not parts:
        return
    key = ", ".join(quote_ident(k) for k in contract.unique_key)
    content = ", ".join(quote_ident(c.name) for c in contract.columns)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _candidates AS
        WITH repeated AS (
            SELECT hash({key}) AS h FROM read_parquet({_files(parts)})
            WHERE len(_problems) = 0 GROUP BY ALL HAVING count(*) > 1
        )
        SELECT parse_filename(filename, true) AS _file_key, _source_row
        FROM read_parquet({_files(parts)}, filename = true)
        WHERE len(_problems) = 0 AND hash({key}) IN (SELECT h FROM repeated)
        """
    )
    con.execute(
        "DELETE FROM _candidates WHERE (_file_key, _source_row) IN (SELECT (_file_key, _source_row) FROM _extra)"
    )
    keys = {r[0] for r in con.execute("SELECT DISTINCT _file_key FROM _candidates").fetchall()}
    wanted = [p for p in parts if p.stem in keys]
    if not wanted:
        return
    con.execute(
        f"""
        INSERT INTO _dupes
        WITH candidates AS (
            SELECT c._file_key, f._source_file, c._source_row, {content}
            FROM (
                SELECT parse_filename(filename, true) AS _file_key, *
                FROM read_parquet({_files(wanted)}, filename = true)
            ) AS p
            JOIN _candidates AS c USING (_file_key, _source_row)
            JOIN _files AS f USING (_file_key)
        )
        SELECT _file_key, _source_row, hash({content}) = first_hash,
               CASE WHEN hash({content}) = first_hash THEN 'duplicate re-export of '
                    ELSE 'conflicting duplicate key first delivered in ' END
               || first_file || ' row ' || first_row
        FROM (
            SELECT _file_key, _source_row, {content},
                   first_value(_source_file) OVER w AS first_file,
                   first_value(_source_row) OVER w AS first_row,
                   first_value(hash({content})) OVER w AS first_hash,
                   row_number() OVER w AS n
            FROM candidates
            WINDOW w AS (PARTITION BY {key} ORDER BY _source_file, _source_row)
        ) WHERE n > 1
        """
    )


def _files(parts: list[Path]) -> str:
    return "[" + ", ".join(quote_literal(str(p)) for p in parts) + "]"


def stop_on_taxonomy_mismatch(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, part: Path, source_file: str
) -> None:
    """Stop the refresh (instead of quarantining) when a row of a freshly parsed part has a
    cost category outside the taxonomy, or a category value the declaration's map does not
    know: the cost would silently be missing from cost-to-serve."""
    table = f"read_parquet({quote_literal(str(part))})"
    if any(c.type == "cost_category" for c in contract.columns):
        rows = con.execute(
            f"""
            SELECT _source_row, p, count(*) OVER () AS n
            FROM {table}, unnest(_problems) t(p)
            WHERE starts_with(p, 'unknown cost category in ')
            ORDER BY _source_row LIMIT 5
            """
        ).fetchall()
        if rows:
            listed = "\n  ".join(f"{source_file} row {r}: {p}" for r, p, _ in rows)
            more = f"\n  ({rows[0][2]} rows in all)" if rows[0][2] > len(rows) else ""
            raise IngestError(
                f"{contract.name}: cost categories not in the taxonomy "
                f"(dbt_project/seeds/cost_categories.csv):\n  {listed}{more}"
            )
    rule = contract.cost.category if contract.cost else None
    if rule is None or isinstance(rule, str) or rule.map is None:
        return
    # Rows whose own columns are fine (_raw_record is kept exactly for rows with problems).
    col = quote_ident(rule.column)
    known = ", ".join(quote_literal(k) for k in rule.map) or "NULL"
    rows = con.execute(
        f"""
        SELECT _source_row, {col}, count(*) OVER () AS n
        FROM {table}
        WHERE _raw_record IS NULL AND {col} IS NOT NULL AND {col} NOT IN ({known})
        ORDER BY _source_row LIMIT 5
        """
    ).fetchall()
    if rows:
        listed = "\n  ".join(f"{source_file} row {r}: {v!r}" for r, v, _ in rows)
        more = f"\n  ({rows[0][2]} rows in all)" if rows[0][2] > len(rows) else ""
        raise IngestError(
            f"{contract.name}: values of {rule.column} not in cost.category.map of "
            f"sources/{contract.name}.yml (known: {', '.join(rule.map)}):\n  {listed}{more}"
        )
