"""German ERP CSV: numbers, dates and encodings are parsed in DuckDB SQL (orchestration/ingest)."""

from datetime import date
from decimal import Decimal

import duckdb
import pytest

from orchestration.ingest.file_rules import DateWindow, FileRules
from orchestration.ingest.typed_sql import column_sql, german_number_pattern
from orchestration.sources.contracts import Column


def parse(
    value: str | None, type_: str | Column, window=None, us_numbers=None
) -> tuple[object, list[str]]:
    col = type_ if isinstance(type_, Column) else Column(name="v", type=type_, description="x")
    typed, problems = column_sql(col, "v", FileRules("csv", window, us_numbers))
    checks = ", ".join(problems) or "NULL"
    row = duckdb.execute(
        f"SELECT {typed}, list_filter([{checks}]::VARCHAR[], lambda x: x IS NOT NULL) "
        "FROM (SELECT ?::VARCHAR AS v)",
        [value],
    ).fetchone()
    return row[0], row[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("1234,56", Decimal("1234.56")),
        ("1.234.567,8", Decimal("1234567.80")),
        ("-1.234,56", Decimal("-1234.56")),
        ("1.234,56-", Decimal("-1234.56")),  # SAP puts the sign at the end
        ("0,5", Decimal("0.50")),
        ("  42 ", Decimal("42.00")),
        ("7", Decimal("7.00")),
    ],
)
def test_german_decimal_numbers(text, expected):
    value, problems = parse(text, "decimal(18,2)")
    assert value == expected
    assert problems == []


@pytest.mark.parametrize(
    "text",
    [
        "12,345",  # three decimals where two are declared: rounding would lose money
        "abc",
        "1.234,5,6",
    ],
)
def test_rejects_numbers_that_are_not_german_or_lose_precision(text):
    value, problems = parse(text, "decimal(18,2)")
    assert value is None
    assert problems == [f'unparseable number (German format, at most 2 decimals) in v: "{text}"']


def test_integer_rejects_fractions():
    assert parse("1.500", "integer") == (1500, [])
    value, problems = parse("1,5", "integer")
    assert value is None and problems[0].startswith("unparseable whole number in v")


@pytest.mark.parametrize(
    ("text", "iso"),
    [("05.01.2024", "2024-01-05"), (" 05.01.2024 ", "2024-01-05"), ("2024-01-05", "2024-01-05")],
)
def test_dates(text, iso):
    value, problems = parse(text, "date")
    assert str(value) == iso and problems == []


@pytest.mark.parametrize(
    "text",
    [
        "31.02.2024",
        "2024/01/05",
        "05.01.24x",
        "5.1.2024",  # dd.mm.yyyy means two digits for day and month
        "05.1.2024",
        "2024-1-5",
        "16.12.25",  # a two-digit year would be read as the year 25
    ],
)
def test_invalid_dates_are_problems(text):
    value, problems = parse(text, "date")
    assert value is None
    assert problems == [f'unparseable date (dd.mm.yyyy) in v: "{text}"']


def test_empty_is_missing_not_zero():
    col = Column(name="v", type="decimal(18,2)", required=True, description="x")
    typed, problems = column_sql(col, "v")
    value, found = duckdb.execute(
        f"SELECT {typed}, list_filter([{', '.join(problems)}]::VARCHAR[], lambda x: x IS NOT NULL)"
        " FROM (SELECT '  '::VARCHAR AS v)"
    ).fetchone()
    assert value is None and found == ["missing v"]


@pytest.mark.parametrize("type_", ["decimal(18,2)", "decimal(18,4)", "integer"])
def test_fast_path_for_plain_numbers_changes_no_value(type_):
    """The plain-number fast path gives exactly what the general German-number rule gives."""
    col = Column(name="v", type=type_, description="x")
    typed, _ = column_sql(col, "v")
    t = col.duckdb_type
    general = (
        f"CASE WHEN regexp_full_match(NULLIF(TRIM(v), ''), '{german_number_pattern(col.scale)}') "
        f"THEN TRY_CAST((CASE WHEN NULLIF(TRIM(v), '') LIKE '%-' THEN '-' ELSE '' END) || "
        f"replace(replace(rtrim(NULLIF(TRIM(v), ''), '-'), '.', ''), ',', '.') AS {t}) END"
    )
    samples = [
        "0", "7", "0042", "1234", "1,5", "12,34", "12,345", "1,23456", "99999999999999,99",
        "1.234", "1.234,5", "1.234.567,89", "-1,5", "1,5-", "+3", ",5", "1,", "1,,5", " 8,25 ",
        "", "1 234", "٣", "12e3", "0x10", "1.2345", "123456789012345678901234567890",
    ]  # fmt: skip
    rows = duckdb.execute(
        f"SELECT v, {typed} IS NOT DISTINCT FROM {general} FROM unnest(?::VARCHAR[]) t(v)",
        [samples],
    ).fetchall()
    assert all(same for _, same in rows), [v for v, same in rows if not same]


@pytest.mark.parametrize(("text", "code"), [("chf", "CHF"), (" Eur ", "EUR"), ("USD", "USD")])
def test_currency_codes_are_case_insensitive(text, code):
    assert parse(text, "currency") == (code, [])


@pytest.mark.parametrize("text", ["CH", "CHFF", "C1F", "€"])
def test_a_currency_code_is_three_letters(text):
    _, problems = parse(text, "currency")
    assert problems == [f'not an ISO currency code in v: "{text}"']


WINDOW = DateWindow(earliest=date(2000, 1, 1), received=date(2024, 3, 15), days_ahead=366)


@pytest.mark.parametrize("text", ["01.01.2000", "15.03.2024", "16.03.2025", "2025-03-16"])
def test_dates_inside_the_window_are_fine(text):
    assert parse(text, "date", window=WINDOW)[1] == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "31.12.1999",
            'date outside the plausible window in v: "31.12.1999" (before 01.01.2000, the '
            "earliest plausible date: ingest.dates.earliest in config/warehouse.yml)",
        ),
        (
            "05.03.0025",  # a two-digit year padded by the exporting system
            'date outside the plausible window in v: "05.03.0025" (before 01.01.2000, the '
            "earliest plausible date: ingest.dates.earliest in config/warehouse.yml)",
        ),
        (
            "17.03.2025",
            'date outside the plausible window in v: "17.03.2025" (after 16.03.2025, the latest '
            "plausible date: the file arrived 15.03.2024, + ingest.dates.days_ahead 366 days in "
            "config/warehouse.yml)",
        ),
    ],
)
def test_dates_outside_the_window_are_problems(text, reason):
    value, problems = parse(text, "date", window=WINDOW)
    assert value is not None and problems == [reason]


def test_a_column_may_declare_an_earlier_first_date():
    col = Column(name="v", type="date", earliest=date(1900, 1, 1), description="x")
    assert parse("01.07.1985", col, window=WINDOW)[1] == []
    assert parse("31.12.1899", col, window=WINDOW)[1] == [
        'date outside the plausible window in v: "31.12.1899" (before 01.01.1900, the earliest '
        "plausible date: v.earliest in sources/*.yml)"
    ]


@pytest.mark.parametrize(
    ("text", "type_", "reason"),
    [
        (
            "1.000.000.000,000",
            "decimal(12,3)",
            'number out of range in v: "1.000.000.000,000" (at most 999.999.999,999 for '
            "decimal(12,3))",
        ),
        (
            "99999999999999999999",
            "integer",
            'number out of range in v: "99999999999999999999" (at most '
            "9.223.372.036.854.775.807 for a whole number)",
        ),
    ],
)
def test_a_well_formed_number_the_type_cannot_hold_is_out_of_range(text, type_, reason):
    assert parse(text, type_) == (None, [reason])


def test_a_parquet_number_the_type_cannot_hold_is_out_of_range():
    c = Column(name="v", type="decimal(12,3)", description="x")
    typed, problems = column_sql(c, "v", FileRules("parquet"))
    row = duckdb.execute(
        f"SELECT {typed}, list_filter([{', '.join(problems)}]::VARCHAR[], lambda x: x IS NOT NULL)"
        " FROM (SELECT 1e15::DOUBLE AS v)"
    ).fetchone()
    assert row == (
        None,
        [
            'number out of range in v: "1000000000000000.0" (at most 999.999.999,999 for decimal(12,3))'
        ],
    )


@pytest.mark.parametrize("text", ["1,234.56", "100.00", "1.2345", "378.15-", "0.250"])
def test_a_number_written_us_style_is_named_as_such(text):
    """Only a US reader can read these (a German one would see 1.23456 thousand, or nothing)."""
    assert parse(text, "decimal(18,4)") == (
        None,
        [
            f'number in US format in v: "{text}" (a decimal point, but numbers are read in German '
            "format, 1.234,56)"
        ],
    )


@pytest.mark.parametrize("text", ["1.250", "1,250", "12.500-", "999.999"])
def test_in_a_file_that_writes_numbers_us_style_locale_dependent_numbers_are_problems(text):
    evidence = 'row 3 unit_price "100.00"'
    assert parse(text, "decimal(18,3)")[1] == []  # in a German file: fine
    assert parse(text, "decimal(18,3)", us_numbers=evidence)[1] == [
        f'number ambiguous in this file in v: "{text}" (it reads differently in German and US '
        f"format, and the file writes numbers US-style: {evidence})"
    ]


@pytest.mark.parametrize("text", ["938", "1.234,56", "1.234.567", "12,5", "0,250"])
def test_numbers_that_read_the_same_in_both_formats_stay_fine(text):
    assert parse(text, "decimal(18,3)", us_numbers='row 3 unit_price "100.00"')[1] == []
