"""Inputs that must stop the refresh: a raw file that cannot be a delivery (empty, missing
columns, bytes no encoding defines, a link out of the raw folder), a missing required source,
and broken configuration (files, environment, source declarations with SQL or `../`).

Each case breaks a copy of the shared baseline, runs `kam refresh` as cron would and asserts:
exit code 1; the message names the file (and line or key) and the problem; `current` and the
working warehouse are exactly as before. Then the cause is removed and a plain `kam refresh`
must publish. A case that stops before the run even starts (configuration) changes nothing, so
its copy is checked unchanged and one plain refresh at the end covers the group.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT
from tests.robustness.harness import (
    INVOICE_HEADER,
    Run,
    build_baseline,
    copy_of,
    current,
    kam,
    tree_digest,
)

GOOD_ROW = "RS1;1;15.05.2023;{c};P0001;10,000;68,66;CHF;invoice;39,56;14.06.2023;\n"


@dataclass(frozen=True)
class Stop:
    id: str
    apply: Callable[[Path], None]  # breaks the data root (or, for config cases, the project)
    expect: tuple[str, ...]  # parts of the message, in any order; {data} is the data root
    env: dict[str, str] = field(default_factory=dict)
    # The stop comes after the source's rows were judged: its quarantine shows every row's
    # reason to whoever looks, so the working warehouse holds them (`current` does not).
    writes_quarantine: bool = False


def drop(name: str, content: bytes, source: str = "invoice_lines") -> Callable[[Path], None]:
    def apply(data: Path) -> None:
        (data / "raw" / source / name).write_bytes(content)

    return apply


def remove(relative: str) -> Callable[[Path], None]:
    return lambda data: (data / "raw" / relative).unlink()


def link_outside(data: Path) -> None:
    secret = data.parent / "secret.csv"
    secret.write_text(INVOICE_HEADER)
    (data / "raw" / "invoice_lines" / "rs_link.csv").symlink_to(secret)


def all_customers_bad(data: Path) -> None:
    path = data / "raw" / "customers" / "customers.csv"
    lines = path.read_text(encoding="cp1252").splitlines(keepends=True)
    # customer_name is required: empty it in every row
    bad = [";".join(c if i != 1 else "" for i, c in enumerate(ln.split(";"))) for ln in lines[1:]]
    path.write_text(lines[0] + "".join(bad), encoding="cp1252")


DATA_STOPS = [
    Stop("empty_file", drop("rs_empty.csv", b""), ("rs_empty.csv: empty file (0 bytes",)),
    Stop("bom_only_file", drop("rs_bom.csv", b"\xef\xbb\xbf\r\n"), ("rs_bom.csv: empty file",)),
    Stop(
        "missing_required_column",
        drop("rs_cols.csv", INVOICE_HEADER.replace("quantity;", "menge;").encode() + b"x\n"),
        ("rs_cols.csv: missing column(s) quantity for source 'invoice_lines'",),
    ),
    Stop(
        "comma_separated_export",
        drop("rs_comma.csv", INVOICE_HEADER.replace(";", ",").encode() + b"R,1\n"),
        ("rs_comma.csv: missing column(s) invoice_number",),
    ),
    Stop(
        "byte_no_encoding_defines",
        drop("rs_bytes.csv", INVOICE_HEADER.encode() + b"R\x81;1;15.05.2023\n"),
        ("rs_bytes.csv", "0x81"),
    ),
    Stop(
        "unclosed_quote",
        drop("rs_quote.csv", (INVOICE_HEADER + 'R;1;"15.05.2023;C;P\nR;2;x\n').encode()),
        ("rs_quote.csv: cannot be read as a ';'-separated CSV: line 2 opens a quote",),
    ),
    Stop(
        "corrupt_parquet",
        drop("rs_corrupt.parquet", b"PAR1 this is not a parquet file PAR1"),
        ("rs_corrupt.parquet",),
    ),
    Stop("link_out_of_raw_folder", link_outside, ("rs_link.csv: resolves outside",)),
    Stop(
        "required_source_customers_missing",
        remove("customers/customers.csv"),
        ("required source customers has no rows: no file matches",),
    ),
    Stop(
        "required_source_exchange_rates_missing",
        lambda data: shutil.rmtree(data / "raw" / "exchange_rates"),
        ("required source exchange_rates has no rows",),
    ),
    Stop(
        "required_source_all_rows_quarantined",
        all_customers_bad,
        ("required source customers has no rows: all", "missing customer_name"),
        writes_quarantine=True,
    ),
    Stop(
        "reporting_currency_without_rates",
        lambda data: None,
        ("no exchange rates into JPY",),
        env={"KAM_REPORTING_CURRENCY": "JPY"},
    ),
]


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def project_file(relative: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda project: replace_in(project / relative, old, new)


def append(relative: str, text: str) -> Callable[[Path], None]:
    def apply(project: Path) -> None:
        with (project / relative).open("a") as f:
            f.write(text)

    return apply


def new_source(name: str, yml: str) -> Callable[[Path], None]:
    return lambda project: (project / "sources" / f"{name}.yml").write_text(yml)


SOURCE = """\
name: {name}
description: A declared cost source.
required: false
path: {folder}
columns:
  - {{name: booking_id, type: text, required: true, description: "Booking."}}
  - {{name: customer_id, type: text, required: true, description: "Customer."}}
  - {{name: booked_on, type: date, required: true, description: "Booked."}}
  - {{name: {amount}, type: "decimal(18,2)", required: true, description: "Amount."}}
  - {{name: currency, type: currency, required: true, description: "Currency."}}
unique_key: [booking_id]
references:
  - {{column: customer_id, source: customers}}
currency: {{column: currency, date_column: booked_on}}
cost:
  owner: Marketing
  customer: customer_id
  date: booked_on
  currency: currency
  category: {category}
  amount: {amount}
"""


def source_yml(
    name="fairs", folder="fairs", amount="amount", category="sales_promotion", files=None
) -> str:
    text = SOURCE.format(name=name, folder=folder, amount=amount, category=category)
    return text if files is None else text.replace(f"path: {folder}", f"files: {files!r}")


CONFIG_STOPS = [
    Stop(
        "warehouse_yml_not_yaml",
        append("config/warehouse.yml", "\nduckdb:\n threads: 2\n  memory_limit: 1GB\n"),
        ("config/warehouse.yml, line", "not valid YAML"),
    ),
    Stop(
        "warehouse_yml_unknown_key",
        append("config/warehouse.yml", "\npublication_keep: 3\n"),
        ("config/warehouse.yml", "publication_keep"),
    ),
    Stop(
        "warehouse_yml_wrong_type",
        append("config/warehouse.yml", "\npublications_to_keep: drei\n"),
        ("config/warehouse.yml", "publications_to_keep"),
    ),
    Stop(
        "env_threads_not_a_number",
        lambda p: None,
        ("KAM_DUCKDB_THREADS",),
        {"KAM_DUCKDB_THREADS": "zwei"},
    ),
    Stop(
        "env_memory_limit_not_a_size",
        lambda p: None,
        ("KAM_DUCKDB_MEMORY_LIMIT",),
        {"KAM_DUCKDB_MEMORY_LIMIT": "viel"},
    ),
    Stop(
        "env_cron_invalid",
        lambda p: None,
        ("KAM_SCHEDULE_CRON",),
        {"KAM_SCHEDULE_CRON": "61 * * * *"},
    ),
    Stop(
        "env_as_of_date_invalid", lambda p: None, ("KAM_AS_OF_DATE",), {"KAM_AS_OF_DATE": "gestern"}
    ),
    Stop(
        "scoring_weights_do_not_sum_to_1",
        project_file("config/scoring.yml", "weight: 0.25", "weight: 0.35"),
        ("config/scoring.yml", "weights sum to"),
    ),
    Stop(
        "scoring_yml_not_yaml",
        append("config/scoring.yml", "\n  - [unclosed\n"),
        ("config/scoring.yml", "not valid YAML"),
    ),
    Stop(
        "catalogue_rate_missing",
        project_file("config/activity_rates.csv", ",12.50,", ",,"),
        ("config/activity_rates.csv", "missing rate"),
    ),
    Stop(
        "catalogue_rate_not_a_number",
        project_file("config/activity_rates.csv", ",12.50,", ",zwoelf,"),
        ("config/activity_rates.csv", "zwoelf"),
    ),
    Stop(
        "source_yml_not_yaml",
        append("sources/shipments.yml", "\ncolumns: [unclosed\n"),
        ("sources/shipments.yml", "line"),
    ),
    Stop(
        "source_sql_injection_in_column_name",
        new_source("fairs", source_yml(amount="amount; DROP TABLE stg_erp__customers")),
        (
            "sources/fairs.yml, line 9: columns.3.name: column name "
            "'amount; DROP TABLE stg_erp__customers' is not a plain identifier",
        ),
    ),
    Stop(
        "source_sql_injection_in_name",
        new_source("fairs", source_yml(name="fairs' OR 1=1 --")),
        (
            'sources/fairs.yml, line 1: name: source name "fairs\' OR 1=1 --" is not a plain identifier',
        ),
    ),
    Stop(
        "source_folder_path_traversal",
        new_source("fairs", source_yml(folder="../../etc")),
        ("sources/fairs.yml, line 4: path: path '../../etc' must be a folder inside data/raw",),
    ),
    Stop(
        "source_files_pattern_traversal",
        new_source("fairs", source_yml(files="../../*/secret.csv")),
        ("sources/fairs.yml, line 4: files:",),
    ),
    Stop(
        "source_unknown_cost_category",
        new_source("fairs", source_yml(category="fairground_rides")),
        ("sources/fairs.yml, line 20: cost.category: unknown category 'fairground_rides'",),
    ),
]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    return build_baseline(tmp_path_factory.mktemp("stops"))


def working_state(data: Path) -> str:
    """What a failed run must leave as it was: the publications and the working warehouse
    (ingested rows, quarantine, the database, what was built), not the logs it wrote."""
    parts = [current(data) or "", tree_digest(data / "published")]
    for name in ("ingested", "quarantine", "kam.duckdb"):
        path = data / "warehouse" / name
        parts.append(
            tree_digest(path) if path.is_dir() else str(path.exists() and path.stat().st_size)
        )
    return "|".join(parts)


def assert_stopped(run: Run, case: Stop, data: Path) -> None:
    assert run.code == 1, run.output[-3000:]
    for part in case.expect:
        assert part.format(data=data) in run.output, f"{part!r} not in:\n{run.output[-3000:]}"
    assert "published/current unchanged" in run.output
    assert "Traceback" not in run.output


@pytest.mark.parametrize("case", DATA_STOPS, ids=lambda c: c.id)
def test_bad_data_stops_the_refresh_and_the_fixed_data_heals(baseline, tmp_path, case):
    data = copy_of(baseline, tmp_path / "data")
    before = working_state(data)
    raw_before = tmp_path / "raw_before"
    shutil.copytree(data / "raw", raw_before, symlinks=True)
    case.apply(data)

    run = kam(data, "refresh", **case.env)

    assert_stopped(run, case, data)
    assert current(data) == current(baseline)
    if not case.writes_quarantine:
        assert working_state(data) == before
    shutil.rmtree(data / "raw")
    shutil.copytree(raw_before, data / "raw", symlinks=True)
    healed = kam(data, "refresh")
    assert healed.code == 0, healed.output[-3000:]


IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "data", "target", "logs", "__pycache__", ".*_cache"
)


@pytest.fixture(scope="module")
def project(baseline, tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the project (its config/ and sources/ are what these cases break) and a copy of
    the baseline's data for it."""
    root = tmp_path_factory.mktemp("project") / "kam"
    shutil.copytree(PROJECT_ROOT, root, ignore=IGNORE)
    return root, copy_of(baseline, root.parent / "data")


def kam_in(project: Path, data: Path, *args: str, **env: str) -> Run:
    return kam(data, *args, project=project, **env)


@pytest.mark.parametrize("case", CONFIG_STOPS, ids=lambda c: c.id)
def test_bad_configuration_stops_before_the_run_and_changes_nothing(project, case):
    root, data = project
    before = working_state(data)
    saved = {p: p.read_bytes() for d in ("config", "sources") for p in (root / d).iterdir()}
    case.apply(root)
    try:
        run = kam_in(root, data, "refresh", **case.env)
    finally:
        for p in (root / "sources").iterdir():
            if p not in saved:
                p.unlink()
        for p, content in saved.items():
            p.write_bytes(content)

    assert_stopped(run, case, data)
    assert "refresh FAILED before it started" in run.output
    assert working_state(data) == before
    failures = data / "warehouse" / "logs" / "failures.jsonl"
    record = json.loads(failures.read_text().splitlines()[-1])  # recorded, and alerted
    assert case.expect[0] in record["error"]


def test_after_the_configuration_cases_a_plain_refresh_publishes(project):
    root, data = project
    run = kam_in(root, data, "refresh")
    assert run.code == 0, run.output[-3000:]


def test_there_are_enough_cases():
    assert len(DATA_STOPS) + len(CONFIG_STOPS) >= 25
