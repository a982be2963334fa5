"""A BI reader in its own process: queries `published/current` in a loop until told to stop.

    python -m tests.integration.publication_reader PUBLISHED_DIR OUT_JSONL STOP_FILE

Each round opens `current/kam.duckdb` read-only (as a BI tool does) and, separately, reads the
Parquet files of the publication `current` resolves to. Every observation is written to
OUT_JSONL: the publication seen and what was wrong with it (nothing, normally); an exception
is an observation too, never the end of the loop.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import duckdb

CHECKED = ("key_account_value", "cost_to_serve", "cost_lines", "accounts", "quarantine")


def through_serving_file(published: Path) -> tuple[str, list[str]]:
    """One attach of current/kam.duckdb: the numbers must agree with each other and with the
    manifest of the publication it turned out to be."""
    con = duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})
    try:
        con.execute(f"ATTACH '{published / 'current' / 'kam.duckdb'}' AS kam (READ_ONLY)")
        (name,) = con.execute("SELECT publication FROM kam.publication").fetchone()
        manifest = json.loads((published / name / "manifest.json").read_text())
        counts = {t: con.execute(f"SELECT count(*) FROM kam.{t}").fetchone()[0] for t in CHECKED}
        costs, relationship, lines = con.execute(
            "SELECT (SELECT sum(amount) FROM kam.cost_to_serve), "
            "(SELECT sum(relationship_costs) FROM kam.key_account_value), "
            "(SELECT sum(amount) FROM kam.cost_lines)"
        ).fetchone()
    finally:
        con.close()
    problems = [
        f"{t}: {n} rows, manifest {manifest['tables'][t]}"
        for t, n in counts.items()
        if n != manifest["tables"][t]
    ]
    if not costs == relationship == lines:
        problems.append(f"cost_to_serve {costs}, relationship_costs {relationship}, lines {lines}")
    return name, problems


def through_parquet(published: Path) -> tuple[str, list[str]]:
    """Resolve `current` once, then read that publication's files (as docs/outputs.md says)."""
    folder = Path(os.path.realpath(published / "current"))
    manifest = json.loads((folder / "manifest.json").read_text())
    con = duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})
    try:
        costs, cts_rows = con.execute(
            f"SELECT sum(amount), count(*) FROM '{folder}/cost_to_serve/*.parquet'"
        ).fetchone()
        relationship, kav_rows = con.execute(
            f"SELECT sum(relationship_costs), count(*) FROM '{folder}/key_account_value.parquet'"
        ).fetchone()
        lines = con.execute(f"SELECT count(*) FROM '{folder}/cost_lines/*.parquet'").fetchone()[0]
    finally:
        con.close()
    tables = manifest["tables"]
    problems = []
    if (cts_rows, kav_rows, lines) != (
        tables["cost_to_serve"],
        tables["key_account_value"],
        tables["cost_lines"],
    ):
        problems.append(f"rows {(cts_rows, kav_rows, lines)} vs manifest {tables}")
    if costs != relationship:
        problems.append(f"cost_to_serve {costs} != relationship_costs {relationship}")
    return folder.name, problems


def main(published: Path, out: Path, stop: Path) -> None:
    with out.open("a", encoding="utf-8") as log:
        while not stop.exists():
            for how, read in (("duckdb", through_serving_file), ("parquet", through_parquet)):
                started = time.monotonic()
                try:
                    name, problems = read(published)
                    seen = {"how": how, "publication": name, "problems": problems}
                except Exception:  # recorded: the test fails on any
                    seen = {"how": how, "error": traceback.format_exc()}
                seen["seconds"] = round(time.monotonic() - started, 3)
                log.write(json.dumps(seen) + "\n")
                log.flush()
            time.sleep(0.05)  # leave the refresh most of the two cores


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
