"""Bare DuckDB baseline: run bench/bare_duckdb.sql on a raw folder, write the two marts.

The activity catalogue and the as-of date of open receivables come from the pipeline's own
configuration (config/activity_rates.csv, costing.as_of_date in config/warehouse.yml).

Run as its own process by the harness, so that its time and memory are measured alone:

    python -m bench.bare_duckdb --raw bench/cache/1000000/raw --out /tmp/bare

DuckDB gets the same memory limit, threads and spill folder as the pipeline
(config/warehouse.yml), so the comparison is about the work, not the settings.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

SQL_FILE = Path(__file__).with_name("bare_duckdb.sql")


def run(raw_dir: Path, out_dir: Path, reporting_currency: str | None = None) -> dict[str, object]:
    import duckdb

    from orchestration.settings import AS_OF_LATEST_DATA, Settings

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
    try:
        con.execute("SET VARIABLE raw_dir = ?", [str(raw_dir.resolve())])
        con.execute("SET VARIABLE rates_file = ?", [str(settings.activity_rates_file)])
        as_of = None if settings.as_of_date == AS_OF_LATEST_DATA else settings.as_of_date
        con.execute("SET VARIABLE as_of_date = CAST(? AS DATE)", [as_of])
        con.execute("SET VARIABLE reporting_currency = ?", [currency])
        con.execute("SET VARIABLE out_dir = ?", [str(out_dir.resolve())])
        con.execute(SQL_FILE.read_text(encoding="utf-8"))
    finally:
        con.close()
    return {"seconds": time.perf_counter() - started, "reporting_currency": currency}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True, help="folder with <source>/*.csv")
    parser.add_argument("--out", type=Path, required=True, help="folder for the mart Parquet files")
    parser.add_argument("--currency", help="reporting currency (default: config/warehouse.yml)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.raw, args.out, args.currency)))


if __name__ == "__main__":
    main()
