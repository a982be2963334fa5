"""Bad rows: each case is one raw file dropped into the shared baseline, all of them in one
refresh, which must publish (exit 0) with every bad row quarantined under a reason that names
its column, every good row accepted, and raw = accepted + quarantined for every file. Then every
file is replaced by its fixed version and a plain refresh must publish what a full rebuild of
the same files publishes, with nothing of these files left in quarantine.

Rows are numbered as the quarantine numbers them: 1 is the first data row after the header.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.folders import parquet_files
from orchestration.settings import PROJECT_ROOT
from tests.robustness.harness import (
    INVOICE_HEADER,
    build_baseline,
    copy_of,
    current,
    customer_ids,
    kam,
    quarantine,
    rows_by_file,
)

# A good invoice line; {n} is the case's invoice number, {c} a known customer.
LINE = "{n};{i};15.05.2023;{c};P0001;10,000;68,66;CHF;invoice;39,56;14.06.2023;"
FIELDS = INVOICE_HEADER.strip().split(";")


def line(i: int = 1, **values: str) -> str:
    cells = dict(zip(FIELDS, LINE.split(";"), strict=True))
    cells["line_number"] = str(i)
    cells.update(values)
    return ";".join(cells[f] for f in FIELDS)


@dataclass(frozen=True)
class Case:
    id: str
    rows: tuple[str, ...]  # data rows after INVOICE_HEADER
    quarantined: dict[int, str]  # row -> a part of its reason; {} = every row accepted
    fixed: tuple[str, ...] | None = None  # the corrected rows (default: row 1 twice, renumbered)
    header: str = INVOICE_HEADER
    encoding: str = "utf-8"
    newline: str = "\n"
    raw: bytes | None = None  # the file as bytes, when text cannot say it


def bad(id: str, reason: str, **values: str) -> Case:
    """One good row, then a row with `values` changed; the second is quarantined."""
    return Case(id, (line(1), line(2, **values)), {2: reason})


CASES = [
    # dates
    bad("date_two_digit_year", "invoice_date", invoice_date="15.05.23"),
    bad(
        "date_without_leading_zeros",
        "unparseable date (dd.mm.yyyy) in invoice_date",
        invoice_date="5.5.2023",
    ),
    bad(
        "date_impossible_day",
        "unparseable date (dd.mm.yyyy) in invoice_date",
        invoice_date="31.02.2023",
    ),
    bad(
        "date_year_0023",
        "date outside the plausible window in invoice_date",
        invoice_date="15.05.0023",
    ),
    bad(
        "date_before_window",
        "date outside the plausible window in invoice_date",
        invoice_date="15.05.1999",
    ),
    bad(
        "date_far_future",
        "date outside the plausible window in invoice_date",
        invoice_date="15.05.2099",
    ),
    bad(
        "date_us_order", "unparseable date (dd.mm.yyyy) in invoice_date", invoice_date="05/15/2023"
    ),
    bad("date_text", "unparseable date (dd.mm.yyyy) in invoice_date", invoice_date="gestern"),
    # numbers
    bad("number_text", "unparseable number", quantity="zehn"),
    bad("number_too_many_decimals", "in quantity", quantity="1,2345"),
    bad(
        "number_out_of_range",
        "number out of range in quantity",
        quantity="1.000.000.000.000.000,000",
    ),
    bad(
        "amount_overflow",
        "amount out of range",
        quantity="900.000.000,000",
        unit_price="900.000.000,0000",
    ),
    bad("number_implausible", "implausible", quantity="9.000.000,000"),
    bad("number_misplaced_thousands_mark", "unparseable number", unit_price="6.8,66"),
    bad("line_number_not_whole", "unparseable whole number in line_number", line_number="2,5"),
    # codes and references
    bad("currency_not_iso", "not an ISO currency code in currency", currency="Franken"),
    bad("currency_without_rate", "no exchange rate XYZ -> CHF", currency="XYZ"),
    bad("customer_unknown", "unknown customer_id", customer_id="K_UNKNOWN"),
    bad("customer_missing", "missing customer_id", customer_id=""),
    bad("document_type_unknown", "unknown value in document_type", document_type="lieferschein"),
    Case(
        "duplicate_key_conflicting",
        (line(1), line(1, quantity="11,000")),
        {2: "conflicting duplicate key"},
        fixed=(line(1),),
    ),
    # malformed CSV rows
    Case(
        "row_too_many_fields",
        (line(1), line(2) + ";extra;cells"),
        {2: "malformed CSV row: Expected Number of Columns: 12 Found: 13"},
    ),
    Case(
        "row_too_few_fields",
        (line(1), ";".join(line(2).split(";")[:6])),
        {2: "malformed CSV row: Expected Number of Columns: 12 Found: 6"},
    ),
    # a file that shows the other locale: every row that could be misread goes
    Case(
        "us_locale_file",
        (line(1, unit_price="100.00"), line(2, quantity="1.250", unit_price="12")),
        {1: "number in US format in unit_price", 2: "number ambiguous in this file in quantity"},
        fixed=(line(1, unit_price="100,00"), line(2, quantity="1,250", unit_price="12")),
    ),
    Case(
        "mixed_encodings",
        (),
        {2: "mixed encodings"},
        raw=(
            INVOICE_HEADER.encode()
            + line(1, product_id="Gespräch").encode("utf-8")
            + b"\n"
            + line(2, product_id="Gespräch").encode("cp1252")
            + b"\n"
        ),
        fixed=(line(1, product_id="Gespräch"), line(2, product_id="Gespräch")),
    ),
    # accepted as they are: documented normalisations and harmless oddities
    Case("accepted_lowercase_currency", (line(1), line(2, currency="chf")), {}),
    Case("accepted_iso_dates", (line(1), line(2, invoice_date="2023-05-15")), {}),
    Case("accepted_utf8_bom", (line(1), line(2)), {}, encoding="utf-8-sig"),
    Case("accepted_crlf_lines", (line(1), line(2)), {}, newline="\r\n"),
    Case("accepted_cp1252_text", (line(1, product_id="Größe"), line(2)), {}, encoding="cp1252"),
    Case(
        "accepted_columns_reordered",
        (";".join(reversed(line(1).split(";"))), ";".join(reversed(line(2).split(";")))),
        {},
        header=";".join(reversed(FIELDS)) + "\n",
    ),
    Case(
        "accepted_sql_injection_as_text",
        (line(1), line(2, product_id="P1') DROP TABLE stg_erp__customers --")),
        {},
    ),
    Case("accepted_quoted_fields", (line(1), line(2, product_id='"P;0001"')), {}),
]


def file_name(case: Case) -> str:
    return f"rb_{case.id}.csv"


def write(raw: Path, case: Case, c: str, n: str, rows: tuple[str, ...] | None = None) -> None:
    path = raw / "invoice_lines" / file_name(case)
    if case.raw is not None and rows is None:
        path.write_bytes(case.raw.replace(b"{n}", n.encode()).replace(b"{c}", c.encode()))
        return
    rows = case.rows if rows is None else rows
    text = case.header + "".join(r + "\n" for r in rows)
    text = text.replace("{n}", n).replace("{c}", c).replace("\n", case.newline)
    path.write_bytes(text.encode(case.encoding))


def fixed_rows(case: Case) -> tuple[str, ...]:
    """The rows after the fix: a case's own fix, else row 1 twice; a case with nothing
    quarantined stays as it is."""
    if case.fixed is not None:
        return case.fixed
    if not case.quarantined:
        return case.rows
    return (line(1), line(2))


def number(i: int) -> str:
    return f"RB{i:04d}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The baseline, the refresh with every bad file, the refresh after every fix, and the full
    rebuild of the fixed files."""
    root = tmp_path_factory.mktemp("bad_rows")
    baseline = build_baseline(root)
    data = copy_of(baseline, root / "case")
    c = customer_ids(data)[0]
    for i, case in enumerate(CASES):
        write(data / "raw", case, c, number(i))
    bad_run = kam(data, "refresh")
    after_bad = {"current": current(data), "rows": rows_by_file(data, "invoice_lines")}
    after_bad["quarantine"] = {
        case.id: quarantine(data, "invoice_lines", file_name(case)) for case in CASES
    }
    for i, case in enumerate(CASES):
        rows = tuple(r.replace("{n}", number(i)) for r in fixed_rows(case))
        write(data / "raw", case, c, number(i), rows=rows)
    fixed_run = kam(data, "refresh")
    after_fix = {"rows": rows_by_file(data, "invoice_lines")}
    reference = copy_of(data, root / "reference")
    full_run = kam(reference, "refresh", "--full")
    return {
        "baseline": baseline,
        "data": data,
        "reference": reference,
        "bad_run": bad_run,
        "after_bad": after_bad,
        "fixed_run": fixed_run,
        "after_fix": after_fix,
        "full_run": full_run,
    }


def test_there_are_enough_cases():
    assert len({case.id for case in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_rows_are_quarantined_with_their_column_and_good_rows_accepted(runs, case):
    assert runs["bad_run"].code == 0, runs["bad_run"].output[-3000:]
    got = runs["after_bad"]["quarantine"][case.id]
    assert sorted(got) == sorted(case.quarantined), got
    for row, part in case.quarantined.items():
        assert part in got[row], f"row {row}: {got[row]!r} lacks {part!r}"
    rows = len(case.rows) or case.raw.count(b"\n") - 1
    accepted, quarantined = runs["after_bad"]["rows"].get(file_name(case), (0, 0))
    assert (accepted, quarantined) == (rows - len(case.quarantined), len(case.quarantined))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_fixed_file_is_accepted_whole_by_a_plain_refresh(runs, case):
    assert runs["fixed_run"].code == 0, runs["fixed_run"].output[-3000:]
    rows = len(fixed_rows(case))
    assert runs["after_fix"]["rows"][file_name(case)] == (rows, 0)


def test_the_bad_run_published_and_said_how_many_rows_it_quarantined(runs):
    assert runs["after_bad"]["current"] != current(runs["baseline"])
    assert "quarantin" in runs["bad_run"].output


def test_after_the_fixes_the_publication_equals_a_full_rebuild(runs):
    assert runs["full_run"].code == 0, runs["full_run"].output[-3000:]
    compare = _compare()
    data, reference = runs["data"], runs["reference"]
    published = lambda d: (d / "published" / "current").resolve()  # noqa: E731
    assert compare(published(data), published(reference), {}) == []


def test_injection_text_was_stored_verbatim_and_dropped_nothing(runs):
    data = runs["data"]
    publication = (data / "published" / "current").resolve()
    with duckdb.connect() as con:
        [(stored,)] = con.execute(
            f"SELECT product_id FROM '{data}/warehouse/ingested/invoice_lines/*.parquet' "
            "WHERE product_id LIKE '%DROP TABLE%'"
        ).fetchall()
        [(accounts,)] = con.execute(
            f"SELECT count(*) FROM '{parquet_files(publication, 'key_account_value')}'"
        ).fetchall()
    assert stored == "P1') DROP TABLE stg_erp__customers --"
    assert accounts > 0


def _compare():
    spec = importlib.util.spec_from_file_location(
        "compare_publications", PROJECT_ROOT / "scripts" / "compare_publications.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compare
