"""The benchmark run: per scale, the pipeline and both baselines on the same raw files.

For each scale (invoice lines; service logs, visits and deductions scale with them):
1. the data set is generated once and cached (bench/datasets.py), then read once so every
   implementation starts from a warm page cache;
2. `kam refresh --timings-json` runs as a child process on an empty warehouse; Dagster's step
   timings give the stages (ingest, dbt, GX, publish), dbt's run_results.json splits the dbt
   step, and bench/measure.py samples the memory of the whole process tree;
3. the baselines run as child processes on the same files, each in two variants: the fair
   floor (bare DuckDB and pandas writing what the product publishes at minimum:
   key_account_value, and cost_to_serve and cost_lines one file per month, with the published
   columns and types) and the two marts of the earlier runs (kept so that the history stays
   comparable); a pandas variant is skipped where its predicted peak would not fit in the
   machine's free memory;
4. the results are compared row by row (bench/compare.py): the fair floors against the
   publication in every published column, the two-mart variants on the two marts. Only then are
   timings kept.

A tiny scale run first gives the fixed cost of a refresh (process start, Dagster, dbt start-up
and parse, GX import and context); a least-squares line over the measured scales gives the
per-million-lines slope of every implementation.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import psutil

from bench.compare import MartOutput, verify
from bench.datasets import CACHE_DIR, Dataset, ensure_dataset, scale_label
from bench.measure import MB, Measurement, run_measured
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

IMPLEMENTATIONS = ("pipeline", "duckdb_floor", "duckdb", "pandas_floor", "pandas")
# baseline -> (module, variant); the fair floors write a publication's three marts
BASELINES = {
    "duckdb_floor": ("bench.bare_duckdb", "floor"),
    "duckdb": ("bench.bare_duckdb", "2marts"),
    "pandas_floor": ("bench.pandas_baseline", "floor"),
    "pandas": ("bench.pandas_baseline", "2marts"),
}
FAIR_FLOORS = ("duckdb_floor", "pandas_floor")
STAGES = ("startup", "ingest", "dbt", "gx", "publish", "orchestration")
# pandas' peak memory grows about linearly with the lines; keep this much headroom.
PANDAS_SAFETY = 1.3


@dataclass
class Result:
    scale: int
    implementation: str
    status: str  # "ok" or "skipped"
    wall_seconds: float | None = None
    peak_rss_mb: float | None = None  # max(sampled tree sum, largest single process)
    peak_process_mb: float | None = None
    peak_processes: int | None = None
    cpu_seconds: float | None = None  # user + system, whole process tree
    peak_by_process_mb: dict[str, float] = field(default_factory=dict)
    peak_during: str = ""  # the pipeline step running when the tree peak was sampled
    stages: dict[str, float] = field(default_factory=dict)
    detail: dict[str, float] = field(default_factory=dict)
    note: str = ""
    load_before: float | None = None
    load_after: float | None = None


@dataclass
class BenchmarkRun:
    started_at: str
    machine: dict[str, object]
    scales: list[int]
    results: list[Result] = field(default_factory=list)
    datasets: dict[int, dict[str, object]] = field(default_factory=dict)
    totals: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)
    overhead: dict[str, object] = field(default_factory=dict)
    # per scale: the refresh's memory over time by process and its step windows (seconds
    # after the process started), for the memory chart
    memory_profiles: dict[int, dict[str, object]] = field(default_factory=dict)
    # the nightly run: one daily drop on a full history vs a full refresh (bench/nightly.py)
    nightly: dict[str, object] = field(default_factory=dict)

    def result(self, scale: int, implementation: str) -> Result | None:
        return next(
            (r for r in self.results if r.scale == scale and r.implementation == implementation),
            None,
        )


def child_env(data_dir: Path | None = None) -> dict[str, str]:
    """Environment of every measured process.

    PYTHONDONTWRITEBYTECODE is removed so Python caches compiled bytecode as it does on any
    normal installation (this sandbox sets it; without the cache every process start compiles
    dagster, dbt and GX from source). DAGSTER_HOME is removed: the refresh uses an ephemeral
    instance, as `kam refresh` does by default.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("DAGSTER_HOME", None)
    if data_dir is not None:
        env["KAM_DATA_DIR"] = str(data_dir)
    return env


def machine_info() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    packages = ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt")
    packages += ("great-expectations", "pandas", "pyarrow", "numpy")
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": psutil.cpu_count(logical=True),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": commit,
    }


def _kam() -> str:
    local = Path(sys.executable).parent / "kam"
    return str(local) if local.exists() else (shutil.which("kam") or "kam")


def _warm(raw: Path) -> None:
    """Read every raw file once, so no implementation pays for a cold page cache."""
    for path in sorted(raw.rglob("*")):
        if path.is_file():
            with path.open("rb") as f:
                while f.read(1 << 24):
                    pass


def _load() -> float:
    return round(psutil.getloadavg()[0], 2)


def run_pipeline(dataset: Dataset, work: Path, log=print) -> tuple[Result, Path, dict]:
    """`kam refresh` on an empty warehouse whose raw/ is the data set.

    Returns (result, the publication folder it wrote (`current` resolved), memory profile)."""
    data = work / "pipeline"
    for sub in ("warehouse", "published"):
        shutil.rmtree(data / sub, ignore_errors=True)
    data.mkdir(parents=True, exist_ok=True)
    raw = data / "raw"
    if raw.is_symlink() or raw.exists():
        raw.unlink()
    raw.symlink_to(dataset.raw_dir.resolve(), target_is_directory=True)
    timings_file = work / f"refresh-{dataset.lines}.json"
    timings_file.unlink(missing_ok=True)
    load_before = _load()
    m = run_measured(
        [_kam(), "refresh", "--timings-json", str(timings_file)],
        env=child_env(data),
        cwd=PROJECT_ROOT,
        stdout_path=work / f"refresh-{dataset.lines}.out",
        stderr_path=work / f"refresh-{dataset.lines}.err",
    )
    timings = json.loads(timings_file.read_text(encoding="utf-8"))
    if not timings["success"]:
        raise RuntimeError(f"kam refresh failed at {dataset.label}: {timings['error']}")
    stages, detail = pipeline_stages(timings, m.started_at, m)
    result = _result(dataset.lines, "pipeline", m, load_before)
    result.stages, result.detail = stages, detail
    result.peak_during = _step_at(timings, m.started_at + m.peak_at)
    profile = {
        "steps": {
            k: [round(s - m.started_at, 2), round(e - m.started_at, 2)]
            for k, (s, e) in timings["step_windows"].items()
        },
        "timeline": m.timeline,
    }
    log(
        f"  pipeline  {m.wall_seconds:7.1f} s  {result.peak_rss_mb:7.0f} MB "
        f"(peak in {result.peak_during})  " + "  ".join(f"{k} {v:.1f}" for k, v in stages.items())
    )
    return result, Path(timings["current"]).resolve(), profile


def pipeline_stages(
    timings: dict, spawned: float, m: Measurement
) -> tuple[dict[str, float], dict[str, float]]:
    """Wall time per stage from Dagster's step windows, plus the gaps between them."""
    windows = {k: tuple(v) for k, v in timings["step_windows"].items()}
    stage_of = {k: stage_of_step(k) for k in windows}
    stages = dict.fromkeys(("ingest", "dbt", "gx", "publish", "other_steps"), 0.0)
    for key, (start, end) in windows.items():
        stages[stage_of[key]] += end - start
    t = timings["timeline"]
    first_step = min(s for s, _ in windows.values())
    stages["startup"] = t["definitions_loaded"] - spawned  # interpreter, imports, definitions
    # Dagster itself: from definitions loaded to the first step, between steps, after the last.
    in_steps = sum(e - s for s, e in windows.values())
    stages["orchestration"] = max(0.0, (t["run_finished"] - t["definitions_loaded"]) - in_steps)
    if not stages["other_steps"]:
        del stages["other_steps"]
    detail = {
        "process_to_cli": t["cli_entered"] - spawned,
        "import_definitions": t["definitions_loaded"] - t["called"],
        "dagster_to_first_step": first_step - t["definitions_loaded"],
        "exit_after_run": spawned + m.wall_seconds - t["run_finished"],
    }
    gx = sorted((s, e) for k, (s, e) in windows.items() if stage_of[k] == "gx")
    if gx:
        detail["gx_first_check"] = gx[0][1] - gx[0][0]  # includes the GX import and context
        detail["gx_other_checks"] = sum(e - s for s, e in gx[1:])
    detail.update(_dbt_split(timings.get("run_id"), stages["dbt"]))
    ordered = {k: round(stages[k], 3) for k in (*STAGES, "other_steps") if k in stages}
    return ordered, {k: round(v, 3) for k, v in detail.items()}


def _step_at(timings: dict, moment: float) -> str:
    for key, (start, end) in timings["step_windows"].items():
        if start <= moment <= end:
            return key
    t = timings["timeline"]
    return "startup" if moment < t["definitions_loaded"] else "between steps"


def stage_of_step(step_key: str) -> str:
    if step_key.startswith("erp__"):
        return "ingest"
    if step_key == "kam_dbt_models":
        return "dbt"
    if "_gx_" in step_key:
        return "gx"
    if step_key == "publication":
        return "publish"
    return "other_steps"


def _dbt_split(run_id: str | None, dbt_seconds: float) -> dict[str, float]:
    """dbt's own run_results.json: time in models, in tests, and everything else (start-up)."""
    if not run_id:
        return {}
    targets = sorted((DBT_PROJECT_DIR / "target").glob(f"kam_dbt_models-{run_id[:7]}-*"))
    results = targets[-1] / "run_results.json" if targets else None
    if results is None or not results.exists():
        return {}
    data = json.loads(results.read_text(encoding="utf-8"))
    models = sum(
        r["execution_time"] for r in data["results"] if not r["unique_id"].startswith("test.")
    )
    tests = sum(r["execution_time"] for r in data["results"] if r["unique_id"].startswith("test."))
    slowest = max(data["results"], key=lambda r: r["execution_time"], default=None)
    out = {
        "dbt_models": models,
        "dbt_tests": tests,
        "dbt_startup_and_parse": max(0.0, dbt_seconds - data["elapsed_time"]),
    }
    if slowest:
        out[f"dbt_slowest:{slowest['unique_id'].split('.')[-1]}"] = slowest["execution_time"]
    return out


def _result(lines: int, name: str, m: Measurement, load_before: float) -> Result:
    return Result(
        scale=lines,
        implementation=name,
        status="ok",
        wall_seconds=round(m.wall_seconds, 3),
        peak_rss_mb=round(max(m.peak_tree_rss, m.peak_process_rss) / MB, 1),
        peak_process_mb=round(m.peak_process_mb, 1),
        peak_processes=m.peak_processes,
        cpu_seconds=round(m.cpu_seconds, 2),
        peak_by_process_mb={k: round(v / MB, 1) for k, v in m.peak_by_process.items()},
        load_before=load_before,
        load_after=_load(),
    )


def run_baseline(name: str, dataset: Dataset, work: Path, log=print) -> tuple[Result, Path]:
    module, variant = BASELINES[name]
    out = work / "out" / str(dataset.lines) / name
    shutil.rmtree(out, ignore_errors=True)
    load_before = _load()
    args = ["--raw", str(dataset.raw_dir), "--out", str(out), "--variant", variant]
    m = run_measured(
        [sys.executable, "-m", module, *args],
        env=child_env(),
        cwd=PROJECT_ROOT,
        stdout_path=work / f"{name}-{dataset.lines}.out",
        stderr_path=work / f"{name}-{dataset.lines}.err",
    )
    inner = json.loads(m.stdout.strip().splitlines()[-1])
    result = _result(dataset.lines, name, m, load_before)
    result.detail = {"inside_process": round(inner["seconds"], 3)}
    log(f"  {name:<12}  {m.wall_seconds:7.1f} s  {result.peak_rss_mb:7.0f} MB")
    return result, out


def pandas_fits(run: BenchmarkRun, lines: int, name: str = "pandas") -> tuple[bool, str]:
    """Predict a pandas variant's peak from its largest smaller scale; skip if it would not
    fit."""
    measured = [
        r for r in run.results if r.implementation == name and r.status == "ok" and r.scale < lines
    ]
    if not measured:
        return True, ""
    ref = max(measured, key=lambda r: r.scale)
    predicted = ref.peak_rss_mb * lines / ref.scale * PANDAS_SAFETY
    available = psutil.virtual_memory().available / MB
    if predicted > available:
        return False, (
            f"skipped: predicted peak {predicted / 1024:.1f} GB ({ref.peak_rss_mb / 1024:.2f} GB "
            f"at {scale_label(ref.scale)} x {lines // ref.scale} x {PANDAS_SAFETY} headroom) "
            f"exceeds the {available / 1024:.1f} GB of memory available"
        )
    return True, ""


def run_benchmark(
    scales: list[int],
    *,
    overhead_lines: int | None = 10_000,
    implementations: tuple[str, ...] = IMPLEMENTATIONS,
    cache_dir: Path = CACHE_DIR,
    nightly_lines: int | None = None,
    log=print,
) -> BenchmarkRun:
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = cache_dir / "work"
    work.mkdir(exist_ok=True)
    run = BenchmarkRun(
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=machine_info(),
        scales=list(scales),
    )
    if overhead_lines:
        run.overhead = measure_overhead(overhead_lines, cache_dir, work, log)
    for lines in scales:
        dataset = ensure_dataset(lines, cache_dir, log=log)
        run.datasets[lines] = {
            "counts": dataset.counts,
            "raw_mb": round(dataset.bytes_on_disk / MB, 1),
            "generated_seconds": dataset.generated_seconds,
        }
        log(f"{dataset.label}: {dataset.counts} ({dataset.bytes_on_disk / MB:,.0f} MB of CSV)")
        _warm(dataset.raw_dir)
        outputs, results = [], []
        if "pipeline" in implementations:
            result, marts, run.memory_profiles[lines] = run_pipeline(dataset, work, log)
            results.append(result)
            outputs.append(MartOutput("pipeline", marts, published=True))
        for name in BASELINES:
            if name not in implementations:
                continue
            if name.startswith("pandas"):
                fits, why = pandas_fits(run, lines, name)
                if not fits:
                    log(f"  {name:<12}  {why}")
                    results.append(Result(lines, name, "skipped", note=why))
                    continue
            result, out = run_baseline(name, dataset, work, log)
            results.append(result)
            outputs.append(
                MartOutput(
                    name, out, money_in_cents=name == "pandas", published=name in FAIR_FLOORS
                )
            )
        # No timing is reported unless the implementations agree (raises MismatchError).
        if len(outputs) > 1:
            run.totals[lines] = verify(outputs)
            log(f"  agree: {', '.join(o.name for o in outputs)} (row by row, to the cent)")
        run.results.extend(results)
    if overhead_lines:
        run.overhead.update(slopes(run))
    if nightly_lines:
        from bench.nightly import measure_nightly

        dataset = ensure_dataset(nightly_lines, cache_dir, log=log)
        _warm(dataset.raw_dir)
        nightly = measure_nightly(dataset, work, _kam(), child_env, pipeline_stages, log)
        run.nightly = {**asdict(nightly), "ratio": round(nightly.ratio, 4)}
    return run


def measure_overhead(lines: int, cache_dir: Path, work: Path, log=print) -> dict[str, object]:
    """Fixed cost: a refresh and both bare scripts on a tiny data set (after one warm-up run)."""
    dataset = ensure_dataset(lines, cache_dir, log=log)
    log(f"fixed cost: refresh on {dataset.label} invoice lines (one warm-up run first)")
    run_pipeline(dataset, work, log=lambda *_: None)  # warm-up: bytecode, page cache, manifest
    result, _, _ = run_pipeline(dataset, work, log)
    out: dict[str, object] = {"lines": lines, "pipeline": asdict(result)}
    for name in ("duckdb_floor", "duckdb"):
        bare, _ = run_baseline(name, dataset, work, log)
        out[name] = asdict(bare)
    return out


def slopes(run: BenchmarkRun) -> dict[str, object]:
    """Least-squares line wall = a + b * millions of lines over the measured scales."""
    out: dict[str, object] = {}
    for name in IMPLEMENTATIONS:
        points = [
            (r.scale / 1e6, r.wall_seconds)
            for r in run.results
            if r.implementation == name and r.status == "ok" and r.wall_seconds is not None
        ]
        if len(points) < 2:
            continue
        n = len(points)
        mx = sum(x for x, _ in points) / n
        my = sum(y for _, y in points) / n
        sxx = sum((x - mx) ** 2 for x, _ in points)
        slope = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
        out[f"{name}_seconds_per_million"] = round(slope, 3)
        out[f"{name}_intercept_seconds"] = round(my - slope * mx, 3)
        if name == "pipeline":
            for stage in ("ingest", "dbt", "gx", "publish"):
                pts = [
                    (r.scale / 1e6, r.stages.get(stage, 0.0))
                    for r in run.results
                    if r.implementation == name and r.status == "ok"
                ]
                sy = sum(y for _, y in pts) / n
                s = sum((x - mx) * (y - sy) for x, y in pts) / sxx if sxx else 0.0
                out[f"pipeline_{stage}_seconds_per_million"] = round(s, 3)
    return out
