"""Bare DuckDB baseline: run one SQL script on a raw folder and write what it computes.

Two variants, each measured as its own implementation:

- `floor` (the fair floor, bench/bare_duckdb.sql): key_account_value, cost_to_serve and
  cost_lines with the columns and types the product publishes, in a publication's layout:
  `key_account_value.parquet`, `cost_to_serve/<YYYY-MM>.parquet`, `cost_lines/<YYYY-MM>.parquet`;
- `2marts` (bench/bare_duckdb_2marts.sql, the floor of the earlier runs, kept unchanged):
  `key_account_value.parquet` and `cost_to_serve.parquet`, the mart columns only.

The activity catalogue and the as-of date of open receivables come from the pipeline's own
configuration (config/activity_rates.csv, costing.as_of_date in config/warehouse.yml), the cost
category labels from the dbt seed.

Run as its own process by the harness, so that its time and memory are measured alone:

    python -m bench.bare_duckdb --raw bench/cache/1000000/raw --out /tmp/bare [--variant 2marts]

DuckDB gets the same memory limit, threads and spill folder as the pipeline
(config/warehouse.yml), so the comparison is about the work, not the settings.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

SQL_FILES = {
    "floor": Path(__file__).with_name("bare_duckdb.sql"),
    "2marts": Path(__file__).with_name("bare_duckdb_2marts.sql"),
}
MONTH_MARTS = ("cost_to_serve", "cost_lines")  # written one file per month by the fair floor
_MONTH_FOLDER = re.compile(r"^month=(\d{4}-\d{2})-01$")


def run(
    raw_dir: Path, out_dir: Path, reporting_currency: str | None = None, variant: str = "floor"
) -> dict[str, object]:
    import duckdb

    from orchestration.settings import AS_OF_LATEST_DATA, DBT_PROJECT_DIR, PROJECT_ROOT, Settings

    settings = Settings.load()
    currency = reporting_currency or settings.reporting_currency
    out_dir.mkdir(parents=True, exist_ok=True)
    spill = out_dir / "tmp"
    spill.mkdir(exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(
        config={
            "memory_limit": settings.memory_limit,
            "threads": settings.threads,
            "temp_directory": str(spill),
        }
    )
    rates = settings.activity_rates_file.resolve()
    try:
        con.execute("SET VARIABLE raw_dir = ?", [str(raw_dir.resolve())])
        con.execute("SET VARIABLE rates_file = ?", [str(rates)])
        # how the cost lines name the catalogue: as the pipeline does, relative to the project
        shown = rates.relative_to(PROJECT_ROOT) if rates.is_relative_to(PROJECT_ROOT) else rates
        con.execute("SET VARIABLE rates_source_file = ?", [str(shown)])
        categories = DBT_PROJECT_DIR / "seeds" / "cost_categories.csv"
        con.execute("SET VARIABLE categories_file = ?", [str(categories)])
        as_of = None if settings.as_of_date == AS_OF_LATEST_DATA else settings.as_of_date
        con.execute("SET VARIABLE as_of_date = CAST(? AS DATE)", [as_of])
        con.execute("SET VARIABLE reporting_currency = ?", [currency])
        con.execute("SET VARIABLE out_dir = ?", [str(out_dir.resolve())])
        con.execute(SQL_FILES[variant].read_text(encoding="utf-8"))
    finally:
        con.close()
    if variant == "floor":
        for mart in MONTH_MARTS:
            name_month_files(out_dir / mart)
    return {
        "seconds": time.perf_counter() - started,
        "reporting_currency": currency,
        "variant": variant,
    }


def name_month_files(folder: Path) -> None:
    """DuckDB's partitioned write (`month=2025-01-01/data_0.parquet`) to the layout of a
    publication (`2025-01.parquet`)."""
    for sub in sorted(folder.iterdir()):
        match = _MONTH_FOLDER.match(sub.name)
        files = list(sub.iterdir()) if sub.is_dir() else []
        if not match or len(files) != 1:
            raise RuntimeError(f"{sub}: expected one file of one month, found {files}")
        files[0].rename(folder / f"{match.group(1)}.parquet")
        sub.rmdir()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True, help="folder with <source>/*.csv")
    parser.add_argument("--out", type=Path, required=True, help="folder for the Parquet files")
    parser.add_argument("--currency", help="reporting currency (default: config/warehouse.yml)")
    parser.add_argument(
        "--variant",
        choices=sorted(SQL_FILES),
        default="floor",
        help="floor: the three published marts in the publication's layout (default); "
        "2marts: the two marts of the earlier runs",
    )
    args = parser.parse_args(argv)
    print(json.dumps(run(args.raw, args.out, args.currency, args.variant)))


if __name__ == "__main__":
    main()
