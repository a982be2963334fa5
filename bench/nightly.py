"""The nightly run at scale: one daily drop on top of a full history, against a full refresh.

1. History: the data set's files, hard-linked (no copy), except the last month of invoice lines
   and delivery notes, which are cut before the last days; those days (about 1/365 of the
   invoice lines) are held back as the daily drop.
2. `kam refresh` on the history: the state a nightly run starts from.
3. The drop arrives (`invoice_lines/<day>.csv`, `shipments/<day>.csv`); `kam refresh` runs
   incrementally: the measured nightly run.
4. `kam refresh --full` on exactly the same files: the full refresh it is compared with.
5. The two publications are compared table by table, row by row: the nightly run is only
   reported if it published exactly what the full refresh published.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from bench.datasets import Dataset
from bench.measure import MB, run_measured

# (folder, file prefix, column index of the date that decides the day)
DROPPED = (("invoice_lines", "invoice_lines_", 2), ("shipments", "shipments_", 2))


@dataclass
class NightlyResult:
    scale: int
    drop_lines: int = 0
    drop_days: list[str] = field(default_factory=list)
    history_seconds: float = 0.0
    incremental_seconds: float = 0.0
    incremental_peak_mb: float = 0.0
    incremental_stages: dict[str, float] = field(default_factory=dict)
    full_seconds: float = 0.0
    full_peak_mb: float = 0.0
    scope_months: list[str] = field(default_factory=list)
    tables_compared: int = 0
    rows_compared: int = 0

    @property
    def ratio(self) -> float:
        return self.incremental_seconds / self.full_seconds if self.full_seconds else 0.0


class NightlyMismatch(RuntimeError):
    """The nightly run published something other than the full refresh."""


def measure_nightly(dataset: Dataset, work: Path, kam: str, env_of, stages_of, log=print):
    folder = work / "nightly"
    shutil.rmtree(folder, ignore_errors=True)
    raw = folder / "raw"
    held = folder / "drop"
    result = NightlyResult(dataset.lines)
    _link_tree(dataset.raw_dir, raw)
    result.drop_lines, result.drop_days = _hold_back_drop(raw, held, dataset.lines // 365)
    log(
        f"nightly at {dataset.label}: drop of {result.drop_lines:,} invoice lines "
        f"({', '.join(result.drop_days)}) held back"
    )
    m, _ = _refresh(kam, folder, env_of, stages_of, "history", [])
    result.history_seconds = round(m.wall_seconds, 2)
    for path in held.rglob("*.csv"):
        target = raw / path.relative_to(held)
        shutil.move(path, target)
    m, timings = _refresh(kam, folder, env_of, stages_of, "nightly", [])
    result.incremental_seconds = round(m.wall_seconds, 2)
    result.incremental_peak_mb = round(max(m.peak_tree_rss, m.peak_process_rss) / MB, 1)
    result.incremental_stages = timings
    built = json.loads((folder / "warehouse" / "state" / "built.json").read_text())
    result.scope_months = built["scope"]["months"]
    incremental_pub = (folder / "published" / "current").resolve()
    m, _ = _refresh(kam, folder, env_of, stages_of, "full", ["--full"])
    result.full_seconds = round(m.wall_seconds, 2)
    result.full_peak_mb = round(max(m.peak_tree_rss, m.peak_process_rss) / MB, 1)
    full_pub = (folder / "published" / "current").resolve()
    result.tables_compared, result.rows_compared = compare_publications(incremental_pub, full_pub)
    log(
        f"  nightly   {result.incremental_seconds:7.1f} s vs full refresh "
        f"{result.full_seconds:.1f} s = {result.ratio:.1%}; scope {result.scope_months}; "
        f"{result.tables_compared} tables, {result.rows_compared:,} rows identical"
    )
    return result


def _refresh(kam: str, folder: Path, env_of, stages_of, name: str, args: list[str]):
    timings_file = folder / f"refresh-{name}.json"
    m = run_measured(
        [kam, "refresh", "--timings-json", str(timings_file), *args],
        env=env_of(folder),
        cwd=Path(__file__).resolve().parent.parent,
        stdout_path=folder / f"refresh-{name}.out",
        stderr_path=folder / f"refresh-{name}.err",
    )
    timings = json.loads(timings_file.read_text(encoding="utf-8"))
    if not timings["success"]:
        raise RuntimeError(f"nightly benchmark: the {name} refresh failed: {timings['error']}")
    stages, _ = stages_of(timings, m.started_at, m)
    return m, stages


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link every file (the data set is never written through these links)."""
    for path in sorted(src.rglob("*")):
        if path.is_file():
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)


def _hold_back_drop(raw: Path, held: Path, target_lines: int) -> tuple[int, list[str]]:
    """Cut the last days off the last month of invoice lines (at least `target_lines` lines)
    and of delivery notes; write them to `held` as the daily drop files."""
    invoices = _last_file(raw / "invoice_lines", "invoice_lines_")
    days = _days(invoices, 2)
    cut, taken = None, 0
    for day in sorted(days, reverse=True):
        taken += days[day]
        cut = day
        if taken >= target_lines:
            break
    assert cut is not None
    drop_name = f"{max(days):%Y-%m-%d}.csv"
    for folder, prefix, column in DROPPED:
        last = _last_file(raw / folder, prefix)
        encoding = "utf-8-sig" if last.read_bytes()[:3] == b"\xef\xbb\xbf" else "utf-8"
        header, *lines = last.read_text(encoding=encoding).splitlines(keepends=True)
        keep = [ln for ln in lines if _day(ln, column) < cut]
        drop = [ln for ln in lines if _day(ln, column) >= cut]
        last.unlink()  # a hard link into the data set: replace it, never write through it
        last.write_text(header + "".join(keep), encoding=encoding)
        (held / folder).mkdir(parents=True, exist_ok=True)
        (held / folder / drop_name).write_text(header + "".join(drop), encoding=encoding)
    return taken, [f"{d:%Y-%m-%d}" for d in sorted(d for d in days if d >= cut)]


def _last_file(folder: Path, prefix: str) -> Path:
    return max(p for p in folder.glob(f"{prefix}*.csv"))


def _days(path: Path, column: int) -> dict[date, int]:
    counts: dict[date, int] = {}
    with path.open(encoding="utf-8-sig") as f:
        next(f)
        for line in f:
            d = _day(line, column)
            counts[d] = counts.get(d, 0) + 1
    return counts


def _day(line: str, column: int) -> date:
    dd, mm, yyyy = line.split(";")[column].split(".")
    return date(int(yyyy), int(mm), int(dd))


def compare_publications(a: Path, b: Path) -> tuple[int, int]:
    """Every table of two publications, row by row (in one data folder, every column: a decision
    taken again keeps the time it was first taken)."""
    names = sorted({_table(p) for p in a.iterdir() if _table(p)})
    if names != sorted({_table(p) for p in b.iterdir() if _table(p)}):
        raise NightlyMismatch(f"different tables: {a} vs {b}")
    rows = 0
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = false")
        for name in names:
            x, y = (f"(SELECT * FROM {_source(p, name)})" for p in (a, b))
            diff = con.execute(
                f"SELECT count(*) FROM ((FROM {x} EXCEPT ALL FROM {y}) "
                f"UNION ALL (FROM {y} EXCEPT ALL FROM {x}))"
            ).fetchone()[0]
            if diff:
                raise NightlyMismatch(f"{name}: {diff} rows differ between {a} and {b}")
            rows += con.execute(f"SELECT count(*) FROM {x}").fetchone()[0]
    return len(names), rows


def _table(path: Path) -> str | None:
    if path.suffix == ".parquet":
        return path.stem
    if path.is_dir() and path.name != "data_docs" and any(path.glob("*.parquet")):
        return path.name
    return None


def _source(pub: Path, name: str) -> str:
    single = pub / f"{name}.parquet"
    return f"'{single}'" if single.exists() else f"'{pub / name}/*.parquet'"
