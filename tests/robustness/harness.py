"""What every robustness case needs: a small warehouse refreshed once, copies of it, `kam` run
as a user runs it (a child process, so its exit code is real), and what a run left behind.

A case copies the baseline (raw files, warehouse, publications), breaks something, runs
`kam refresh`, and asserts the exit code, the message, `current`, and row conservation; then it
removes the cause and runs a plain refresh, which must succeed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.demo_data import generate

KAM = Path(sys.executable).parent / "kam"
INVOICE_HEADER = (
    "invoice_number;line_number;invoice_date;customer_id;product_id;quantity;unit_price;currency;"
    "document_type;standard_cost_per_unit;due_date;payment_date\n"
)


@dataclass(frozen=True)
class Run:
    code: int
    output: str  # stderr and stdout together, as a person reads them


def build_baseline(root: Path) -> Path:
    """Six months of generated sample data (a few hundred invoice lines), refreshed once."""
    data = root / "baseline"
    generate(data / "raw", invoice_lines=400, seed=3, fmt="csv", months=6)
    run = kam(data, "refresh")
    assert run.code == 0, run.output
    return data


def copy_of(baseline: Path, to: Path) -> Path:
    shutil.copytree(baseline, to, symlinks=True)
    return to


def kam(
    data: Path, *args: str, project: Path | None = None, timeout: float = 600, **env: str
) -> Run:
    """`kam <args>` on the data root `data`, in a child process, as cron would run it; with
    `project`, the kam of that copy of the project (its own config/ and sources/)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KAM_", "DAGSTER_"))}
    environ.update(KAM_DATA_DIR=str(data), **env)
    command = [str(KAM)]
    if project is not None:
        environ["PYTHONPATH"] = str(project)
        command = [sys.executable, "-c", "from orchestration.cli.main import main; main()"]
    done = subprocess.run(
        [*command, *args],
        cwd=project,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    return Run(done.returncode, done.stdout)


def current(data: Path) -> str | None:
    link = data / "published" / "current"
    return link.resolve().name if link.exists() else None


def customer_ids(data: Path) -> list[str]:
    text = (data / "raw" / "customers" / "customers.csv").read_text(encoding="cp1252")
    return [line.split(";")[0] for line in text.splitlines()[1:]]


def tree_digest(folder: Path) -> str:
    """A hash of every file's path and content under `folder` (links by their target)."""
    h = hashlib.blake2b(digest_size=16)
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_symlink():
            h.update(os.readlink(p).encode())
        elif p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def rows_by_file(data: Path, source: str) -> dict[str, tuple[int, int]]:
    """Per raw file of `source`: (accepted rows, quarantined rows) in the working warehouse."""
    wh = data / "warehouse"
    out: dict[str, list[int]] = {}
    with duckdb.connect() as con:
        for kind, folder in ((0, wh / "ingested" / source), (1, wh / "quarantine" / source)):
            if not any(folder.glob("*.parquet")):
                continue
            for name, n in con.execute(
                f"SELECT _source_file, count(*) FROM read_parquet('{folder}/*.parquet', "
                "union_by_name = true) GROUP BY ALL"
                if kind == 0
                else f"SELECT source_file, count(*) FROM read_parquet('{folder}/*.parquet', "
                "union_by_name = true) GROUP BY ALL"
            ).fetchall():
                out.setdefault(name.rsplit("/", 1)[-1], [0, 0])[kind] += n
    return {k: (a, q) for k, (a, q) in out.items()}


def quarantine(data: Path, source: str, file_name: str) -> dict[int, str]:
    """Row number -> reason of the quarantined rows of one raw file."""
    folder = data / "warehouse" / "quarantine" / source
    if not any(folder.glob("*.parquet")):
        return {}
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT source_row, reason FROM read_parquet('{folder}/*.parquet', "
            "union_by_name = true) WHERE source_file LIKE ?",
            [f"%/{file_name}"],
        ).fetchall()
    return dict(rows)
