"""Compact GX validation (orchestration/checks/reduction.py) decides exactly as row-level GX.

The marts are built here in code: a few cost lines over three months, cost_to_serve as their
aggregate, the category seed. Each test mutates a copy and validates it both ways.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.duck import connect, quote_literal
from orchestration.scope.run_scope import RunScope, write_scope
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.validate.gx import load_suite_dict, suite_tables
from orchestration.validate.marts import (
    mart_reduction,
    validate_compact,
    validate_declared_source,
    validate_marts,
    validate_rows,
)
from orchestration.validate.reduction import ReductionError, reduce_suite

PARTITIONED = {"cost_lines": "month", "cost_to_serve": "month"}
MARCH, APRIL, MAY = date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)

# id, account, month, day, category, allocation, activity, driver, qty, rate, doc amount, fx, amount
LINES = [
    ("visit_costs:V1", "G1", MARCH, 3, "consulting_and_visits", "direct", None, None, None, None, "120.00", "1.000000", "120.00"),
    ("visit_costs:V2", "G1", MARCH, 9, "consulting_and_visits", "direct", None, None, None, None, "80.50", "0.950000", "76.48"),
    ("invoice_lines:R1:order_handling", "G1", MARCH, 3, "order_processing", "activity", "order_handling", "orders", "1.000000", "12.500000", "12.50", "1.000000", "12.50"),
    ("invoice_lines:R2:order_handling", "C2", APRIL, 14, "order_processing", "activity", "order_handling", "orders", "1.000000", "12.500000", "12.50", "0.950000", "11.88"),
    ("invoice_lines:R2:order_line_entry", "C2", APRIL, 14, "order_processing", "activity", "order_line_entry", "order_lines", "3.000000", "2.333333", "7.00", "0.950000", "6.65"),
    ("shipments:S1:shipping", "C2", MAY, 2, "logistics", "activity", "shipping", "shipped_kg", "12.500000", "0.404000", "5.05", "1.000000", "5.05"),
    ("service_logs:T1", "G1", MAY, 20, "complaint_goodwill", "direct", None, None, None, None, "300.00", "1.000000", "300.00"),
]  # fmt: skip


def _lines_sql() -> str:
    rows = []
    for i, (cid, acc, month, day, cat, alloc, act, drv, qty, rate, doc, fx, amt) in enumerate(
        LINES
    ):
        rows.append(
            "("
            + ", ".join(
                [
                    quote_literal(cid),
                    quote_literal(acc),
                    quote_literal("K" + acc),
                    f"DATE '{month.isoformat()}'",
                    f"DATE '{month.replace(day=day).isoformat()}'",
                    quote_literal(cat),
                    quote_literal(alloc),
                    quote_literal(act) if act else "NULL",
                    quote_literal(drv) if drv else "NULL",
                    f"{qty}::DECIMAL(24,6)" if qty else "NULL",
                    f"{rate}::DECIMAL(18,6)" if rate else "NULL",
                    "2" if act else "NULL",
                    f"{doc}::DECIMAL(18,2)",
                    f"{fx}::DECIMAL(18,6)",
                    f"{amt}::DECIMAL(18,2)",
                    quote_literal(cid.split(":")[0]),
                    quote_literal(cid.split(":")[1]),
                    quote_literal(f"/raw/{cid.split(':')[0]}/2025.csv"),
                    str(i + 1),
                ]
            )
            + ")"
        )
    return ",\n".join(rows)


def build_marts(db: Path) -> None:
    seed = DBT_PROJECT_DIR / "seeds" / "cost_categories.csv"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE cost_categories AS SELECT * FROM read_csv('{seed}')")
        con.execute(
            "CREATE TABLE cost_lines AS SELECT l.cost_line_id, l.account_id, l.customer_id, "
            "l.month, l.cost_date, l.cost_category, c.label AS cost_category_label, l.allocation, "
            "l.activity, l.driver, l.driver_quantity, l.rate, 'CHF' AS rate_currency, "
            "DATE '2024-01-01' AS rate_valid_from, 'config/activity_rates.csv' AS "
            "rate_source_file, l.rate_source_row, 'CHF' AS currency, "
            "l.amount_document_currency, l.fx_rate, 'CHF' AS reporting_currency, l.amount, "
            "l.source_name, l.source_id, l.source_file, l.source_row, 'detail' AS detail "
            "FROM (VALUES " + _lines_sql() + ") AS l(cost_line_id, account_id, customer_id, "
            "month, cost_date, cost_category, allocation, activity, driver, driver_quantity, "
            "rate, rate_source_row, amount_document_currency, fx_rate, amount, source_name, "
            "source_id, source_file, source_row) "
            "LEFT JOIN cost_categories c USING (cost_category)"
        )
        con.execute(
            "CREATE TABLE cost_to_serve AS SELECT account_id, month, cost_category, "
            "any_value(cost_category_label) AS cost_category_label, 'CHF' AS reporting_currency, "
            "sum(amount)::DECIMAL(18,2) AS amount, "
            "coalesce(sum(amount) FILTER (WHERE allocation = 'direct'), 0)::DECIMAL(18,2) "
            "AS direct_amount, "
            "coalesce(sum(amount) FILTER (WHERE allocation = 'activity'), 0)::DECIMAL(18,2) "
            "AS allocated_amount, count(*) AS cost_line_count FROM cost_lines GROUP BY ALL"
        )
        con.execute("CREATE TABLE accounts AS SELECT DISTINCT account_id FROM cost_lines")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("marts") / "kam.duckdb"
    build_marts(db)
    return db


@pytest.fixture
def warehouse(pristine, settings) -> Path:
    """A fresh copy of the marts as this test's working DuckDB."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(pristine, settings.warehouse_db)
    return settings.warehouse_db


def mutate(db: Path, *statements: str) -> None:
    with duckdb.connect(str(db)) as con:
        for sql in statements:
            con.execute(sql)


def both_ways(settings, table: str, scope: RunScope | None = None):
    """(row-level summary, compact summary) of the table's suite on the current warehouse."""
    spec = load_suite_dict(table)
    con = connect(settings, settings.warehouse_db, read_only=True)
    try:
        rows = validate_rows(con, settings, table, spec, "test")
        reduction = mart_reduction(table, spec, "month", scope or RunScope.everything())
        compact = validate_compact(con, settings, reduction, "test")
    finally:
        con.close()
    return rows, compact


def outcomes(summary) -> list[tuple]:
    """(expectation, column, unexpected rows) of each failed expectation."""
    return sorted(
        (f["expectation"], str(f["column"]), f["unexpected_count"] or 0) for f in summary.failures
    )


def test_consistent_marts_pass_both_ways(warehouse, settings):
    for table in ("cost_lines", "cost_to_serve"):
        rows, compact = both_ways(settings, table)
        assert rows.success and compact.success, (rows.failures, compact.failures)
        assert compact.evaluated == rows.evaluated == len(load_suite_dict(table)["expectations"])
        assert compact.rows == rows.rows


MUTATIONS = {
    "negative amount": [
        "UPDATE cost_lines SET amount = -1 WHERE cost_line_id = 'visit_costs:V1'",
        "UPDATE cost_to_serve SET amount = amount - 121, direct_amount = direct_amount - 121 "
        "WHERE account_id = 'G1' AND month = DATE '2025-03-01' "
        "AND cost_category = 'consulting_and_visits'",
    ],
    "amount not converted at the rate": [
        "UPDATE cost_lines SET amount = 76.47 WHERE cost_line_id = 'visit_costs:V2'"
    ],
    "allocation rounded the wrong way": [
        "UPDATE cost_lines SET amount_document_currency = 6.99, amount = 6.64 "
        "WHERE cost_line_id = 'invoice_lines:R2:order_line_entry'"
    ],
    "allocation without driver quantity": [
        "UPDATE cost_lines SET driver_quantity = NULL WHERE cost_line_id = 'shipments:S1:shipping'"
    ],
    "zero driver quantity (strict minimum)": [
        "UPDATE cost_lines SET driver_quantity = 0 WHERE cost_line_id = 'shipments:S1:shipping'"
    ],
    "untraced line": ["UPDATE cost_lines SET source_file = NULL WHERE source_row = 2"],
    "unknown category": [
        "UPDATE cost_lines SET cost_category = 'golf' WHERE cost_line_id = 'service_logs:T1'"
    ],
    "unknown account": [
        "DELETE FROM accounts WHERE account_id = (SELECT min(account_id) FROM accounts)"
    ],
    "unknown allocation": [
        "UPDATE cost_lines SET allocation = 'guess' WHERE cost_line_id = 'visit_costs:V1'"
    ],
    "duplicate line id in another month": [
        "INSERT INTO cost_lines SELECT * REPLACE (DATE '2025-05-01' AS month) FROM cost_lines "
        "WHERE cost_line_id = 'visit_costs:V1'"
    ],
    "source row 0 and a missing cost_to_serve group": [
        "UPDATE cost_lines SET source_row = 0 WHERE cost_line_id = 'visit_costs:V2'",
        "DELETE FROM cost_to_serve WHERE cost_category = 'logistics'",
    ],
    "cost_to_serve off by a cent and a count": [
        "UPDATE cost_to_serve SET amount = amount + 0.01, cost_line_count = 3 "
        "WHERE cost_category = 'order_processing' AND month = DATE '2025-04-01'"
    ],
    "a part of cost_to_serve null instead of 0": [
        "UPDATE cost_to_serve SET allocated_amount = NULL "
        "WHERE cost_category = 'consulting_and_visits'"
    ],
    "duplicated cost_to_serve row": [
        "INSERT INTO cost_to_serve SELECT * FROM cost_to_serve WHERE cost_category = 'logistics'"
    ],
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_compact_agrees_with_row_level_validation(warehouse, settings, mutation):
    mutate(warehouse, *MUTATIONS[mutation])
    failed_somewhere = False
    for table in ("cost_lines", "cost_to_serve"):
        rows, compact = both_ways(settings, table)
        assert compact.success == rows.success, table
        assert outcomes(compact) == outcomes(rows), table
        assert compact.successful == rows.successful
        failed_somewhere |= not rows.success
    assert failed_somewhere, "the mutation must break an expectation"


def test_failure_names_expectation_rows_groups_and_sample_rows(warehouse, settings):
    mutate(
        warehouse,
        "UPDATE cost_lines SET amount = amount + 0.01 WHERE cost_line_id IN "
        "('visit_costs:V1', 'invoice_lines:R2:order_handling')",
    )
    [summary] = validate_marts(settings, "test", ["cost_lines"], PARTITIONED)
    assert not summary.success
    [failure] = [f for f in summary.failures if f["column"] == "conversion_gap"]
    assert failure["expectation"] == "expect_column_values_to_be_between"
    assert failure["unexpected_count"] == 2
    assert failure["groups"] == [
        {"month": "2025-03-01", "allocation": "direct", "cost_category": "consulting_and_visits",
         "rows": 1},
        {"month": "2025-04-01", "allocation": "activity", "cost_category": "order_processing",
         "rows": 1},
    ]  # fmt: skip
    found = {(r["cost_line_id"], r["source_file"], r["source_row"]) for r in failure["sample"]}
    assert found == {
        ("visit_costs:V1", "/raw/visit_costs/2025.csv", 1),
        ("invoice_lines:R2:order_handling", "/raw/invoice_lines/2025.csv", 4),
    }
    assert all(r["conversion_gap"] == "0.01" for r in failure["sample"])


def test_scoped_validation_checks_only_the_months_of_the_scope(warehouse, settings):
    # March is broken, but carried over unchanged: a run for April and May passes ...
    mutate(warehouse, "UPDATE cost_lines SET source_row = 0 WHERE month = DATE '2025-03-01'")
    write_scope(settings, RunScope.of_months([APRIL, MAY]))
    [lines, serve] = validate_marts(settings, "test", ["cost_lines", "cost_to_serve"], PARTITIONED)
    assert lines.success and serve.success
    assert lines.validated == serve.validated == "months 2025-04..2025-05 (2 month(s))"
    assert lines.rows == 4
    # ... and a break in a month of the scope is caught.
    mutate(warehouse, "UPDATE cost_lines SET source_row = -5 WHERE month = DATE '2025-05-01'")
    [lines] = validate_marts(settings, "test", ["cost_lines"], PARTITIONED)
    [failure] = lines.failures
    assert (failure["column"], failure["unexpected_count"]) == ("source_row", 2)
    assert {g["month"] for g in failure["groups"]} == {"2025-05-01"}
    write_scope(settings, RunScope.of_months([MARCH]))
    [lines] = validate_marts(settings, "test", ["cost_lines"], PARTITIONED)
    assert lines.failures[0]["unexpected_count"] == 3 and lines.rows == 3


def test_a_scope_without_rows_is_not_an_empty_table(warehouse, settings):
    """The table's row count is a property of every month: a run that recomputed no month, or
    a month whose rows were all withdrawn, passes while other months hold rows."""
    write_scope(settings, RunScope.of_months([]))
    [lines, serve] = validate_marts(settings, "test", ["cost_lines", "cost_to_serve"], PARTITIONED)
    assert lines.success and serve.success and lines.rows == 0
    mutate(warehouse, "DELETE FROM cost_lines WHERE month = DATE '2025-05-01'")
    write_scope(settings, RunScope.of_months([MAY]))
    [lines] = validate_marts(settings, "test", ["cost_lines"], PARTITIONED)
    assert lines.success and lines.rows == 0
    mutate(warehouse, "DELETE FROM cost_lines")  # really empty: the minimum of 1 row fails
    [lines] = validate_marts(settings, "test", ["cost_lines"], PARTITIONED)
    assert not lines.success


def test_every_expectation_type_counts_rows_exactly_as_gx(warehouse, settings):
    """NULLs, strict bounds, sets, patterns and keys with NULLs: the compact count of each
    expectation equals GX's unexpected_count on the rows (and the same ones pass)."""
    mutate(
        warehouse,
        "CREATE TABLE t AS SELECT * FROM (VALUES "
        "(1, 'a', 'x', 1.5, 'AB'), (2, 'a', NULL, 0.0, 'ab'), (3, NULL, 'x', NULL, NULL), "
        "(3, NULL, NULL, 10.0, 'ABC'), (NULL, 'b', 'y', 10.01, 'XY'), (NULL, 'b', 'y', -1, 'XY')"
        ") AS v(k, g, h, x, code)",
    )
    k, g, x = ({"column": c} for c in ("k", "g", "x"))
    spec = {
        "name": "t",
        "expectations": [
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 7}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": g},
            {"type": "expect_column_values_to_be_unique", "kwargs": k},
            {"type": "expect_column_values_to_be_between",
             "kwargs": {**x, "min_value": 0, "max_value": 10, "strict_min": True}},
            {"type": "expect_column_values_to_be_between", "kwargs": {**x, "max_value": 10.0}},
            {"type": "expect_column_values_to_be_between",
             "kwargs": {**x, "min_value": -1, "strict_max": True, "max_value": 10}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {**g, "value_set": ["a"]}},
            {"type": "expect_column_values_to_match_regex",
             "kwargs": {"column": "code", "regex": "^[A-Z]{2}$"}},
            {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["g", "h"]}},
            {"type": "expect_compound_columns_to_be_unique",
             "kwargs": {"column_list": ["g", "h"], "ignore_row_if": "any_value_is_missing"}},
            {"type": "expect_compound_columns_to_be_unique",
             "kwargs": {"column_list": ["k", "h"], "ignore_row_if": "never"}},
        ],
    }  # fmt: skip
    con = connect(settings, settings.warehouse_db, read_only=True)
    try:
        from orchestration.validate.gx import row_level_summary, run_suite

        df = con.execute("SELECT * FROM t").df()
        rows = row_level_summary("t", run_suite(settings, spec, df, "test"), len(df))
        reduction = reduce_suite(spec, table="t", source="main.t", group_by=("g",))
        compact = validate_compact(con, settings, reduction, "test")
    finally:
        con.close()
    between = "expect_column_values_to_be_between"
    compound = "expect_compound_columns_to_be_unique"
    assert (
        outcomes(compact)
        == outcomes(rows)
        == sorted(
            [
                ("expect_table_row_count_to_be_between", "None", 0),
                ("expect_column_values_to_not_be_null", "g", 2),
                ("expect_column_values_to_be_unique", "k", 2),
                (between, "x", 3),  # 0.0 (strict minimum 0), 10.01, -1; NULL ignored
                (between, "x", 1),  # 10.01
                (between, "x", 2),  # 10.0 and 10.01 (strict maximum 10)
                ("expect_column_values_to_be_in_set", "g", 2),
                ("expect_column_values_to_match_regex", "code", 2),
                (compound, "['g', 'h']", 2),  # (b, y) twice; (NULL, NULL) ignored
                (compound, "['g', 'h']", 2),  # the same, rows with any NULL ignored
                (compound, "['k', 'h']", 2),  # (NULL, y) twice: NULLs equal, as in pandas
            ]
        )
    )
    assert rows.successful == compact.successful == 0
    assert [f["observed_value"] for f in compact.failures if f["column"] is None] == [6]


def test_declared_source_suite_is_decided_compactly_with_raw_rows(settings):
    settings.accepted_dir("visits").mkdir(parents=True)
    path = settings.accepted_dir("visits") / "a.csv-00000000.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM (VALUES ('V1', 2.5::DOUBLE, 'a.csv', 1), "
            f"('V2', -1.0, 'a.csv', 2), ('V1', 1.0, 'b.csv', 7)) AS v(visit_id, hours, _source_file, _source_row)) "
            f"TO '{path}' (FORMAT parquet)"
        )
    spec = {
        "name": "source_visits",
        "meta": {
            "reduction": {"group_by": [], "sample_columns": ["visit_id", "_source_file", "_source_row"]}
        },
        "expectations": [
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "visit_id"}},
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "hours", "min_value": 0}},
        ],
    }  # fmt: skip
    summary = validate_declared_source(settings, "visits", spec, "test")
    assert not summary.success and summary.rows == 3 and summary.compact_rows == 1
    dup, negative = summary.failures
    assert dup["unexpected_count"] == 2
    assert [(r["_source_file"], r["_source_row"]) for r in dup["sample"]] == [
        ("a.csv", 1),
        ("b.csv", 7),
    ]
    assert negative["unexpected_count"] == 1 and negative["sample"][0]["hours"] == -1.0


@pytest.mark.parametrize(
    "expectation",
    [
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "x", "min_value": 0}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x", "mostly": 0.9}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x"}},
    ],
)
def test_an_expectation_without_exact_compact_form_is_refused(expectation):
    with pytest.raises(ReductionError):
        reduce_suite({"name": "t", "expectations": [expectation]}, table="t", source="main.t")


def test_every_mart_suite_has_a_compact_form():
    """Partitioned marts are always validated compactly, any other above COMPACT_ABOVE_ROWS."""
    for table in suite_tables():
        spec = load_suite_dict(table)
        reduction = mart_reduction(table, spec, PARTITIONED.get(table), RunScope.everything())
        assert len(reduction.gx_suite()["expectations"]) == len(spec["expectations"])
        assert reduction.sample_columns, f"{table}: no columns to show offending rows by"
    assert (
        mart_reduction(
            "cost_lines", load_suite_dict("cost_lines"), "month", RunScope.everything()
        ).group_by[0]
        == "month"
    )


def test_a_failed_long_mart_check_says_which_rows_and_blocks(warehouse, settings):
    from dagster import AssetCheckKey, AssetKey

    from orchestration.defs.validation import check_result, gx_checks

    specs = {spec.key: spec for checks in gx_checks for spec in checks.check_specs}
    assert specs[AssetCheckKey(AssetKey(["cost_lines"]), "gx_cost_lines")].blocking

    mutate(warehouse, "UPDATE cost_lines SET source_row = 0 WHERE cost_line_id = 'service_logs:T1'")
    [summary] = validate_marts(settings, "test", ["cost_lines"], PARTITIONED)
    result = check_result(summary, AssetKey(["cost_lines"]), "gx_cost_lines")
    assert not result.passed and result.severity.value == "ERROR"
    assert result.description.startswith(
        "expect_column_values_to_be_between(source_row): 1 unexpected in "
        "[{'month': '2025-05-01', 'allocation': 'direct', 'cost_category': 'complaint_goodwill'"
    )
    assert "'cost_line_id': 'service_logs:T1'" in result.description
    assert "'source_file': '/raw/service_logs/2025.csv', 'source_row': 0" in result.description
    assert result.metadata["failures"].value == summary.failures
