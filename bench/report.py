"""Write a benchmark run out: Markdown, CSV, JSON, a PNG chart, and the section of docs/benchmarks.md."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from bench.datasets import scale_label
from bench.harness import IMPLEMENTATIONS, STAGES, BenchmarkRun, Result, stage_of_step
from bench.measure import MB

LABELS = {
    "pipeline": "kam refresh",
    "duckdb_floor": "bare DuckDB (fair floor)",
    "duckdb": "bare DuckDB (2 marts)",
    "pandas_floor": "pandas (fair floor)",
    "pandas": "pandas (2 marts)",
}
FLOOR = "duckdb_floor"  # the reference of the targets and of the ratio column
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
CSV_FIELDS = (
    "scale",
    "invoice_lines",
    "implementation",
    "label",
    "status",
    "wall_seconds",
    "cpu_seconds",
    "peak_rss_mb",
    "peak_process_mb",
    *(f"{s}_seconds" for s in STAGES),
    "load_before",
    "load_after",
    "note",
)
TARGET_LINES, MEMORY_TARGET_LINES = 10_000_000, 50_000_000
FIXED_COST_TARGET_S, NIGHTLY_TARGET = 8.0, 0.10


def _num(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def write_csv(run: BenchmarkRun, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in run.results:
            row = {
                "scale": scale_label(r.scale),
                "invoice_lines": r.scale,
                "implementation": r.implementation,
                "label": LABELS.get(r.implementation, r.implementation),
                "status": r.status,
                "wall_seconds": r.wall_seconds,
                "cpu_seconds": r.cpu_seconds,
                "peak_rss_mb": r.peak_rss_mb,
                "peak_process_mb": r.peak_process_mb,
                "load_before": r.load_before,
                "load_after": r.load_after,
                "note": r.note,
            }
            for s in STAGES:
                row[f"{s}_seconds"] = r.stages.get(s)
            w.writerow(row)


def write_json(run: BenchmarkRun, path: Path) -> None:
    path.write_text(json.dumps(asdict(run), indent=2, default=str), encoding="utf-8")


def targets(run: BenchmarkRun) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for the targets of issue 19, the fair floor (bare DuckDB
    writing what the product publishes at minimum) as the reference; 'not measured' where a
    scale or a run is missing. Measured and stated, never asserted."""
    out = []
    label = scale_label(TARGET_LINES)
    p, floor, pandas = (run.result(TARGET_LINES, n) for n in ("pipeline", FLOOR, "pandas_floor"))
    p = p if p and p.status == "ok" else None
    name = f"{label}: refresh <= 1.5 x fair floor + 10 s"
    if p and floor and floor.status == "ok":
        limit = 1.5 * floor.wall_seconds + 10
        out.append(
            (
                name,
                f"{p.wall_seconds:.1f} s vs limit {limit:.1f} s (fair floor {floor.wall_seconds:.1f} s)",
                "met" if p.wall_seconds <= limit else "missed",
            )
        )
    else:
        out.append((name, "not measured", "-"))
    name = f"{label}: refresh faster than pandas doing the same work (pandas fair floor)"
    if p and pandas and pandas.status == "ok":
        out.append(
            (
                name,
                f"pandas {pandas.wall_seconds:.1f} s / refresh {p.wall_seconds:.1f} s = "
                f"{pandas.wall_seconds / p.wall_seconds:.2f}x",
                "met" if p.wall_seconds < pandas.wall_seconds else "missed",
            )
        )
    else:
        out.append((name, pandas.note if pandas and pandas.note else "not measured", "-"))
    o = run.overhead
    name = "slope: refresh <= 2 x the fair floor's slope"
    slope, floor_slope = (
        o.get("pipeline_seconds_per_million"),
        o.get(f"{FLOOR}_seconds_per_million"),
    )
    if slope is not None and floor_slope is not None:
        out.append(
            (
                name,
                f"{slope:.2f} vs limit {2 * floor_slope:.2f} s per million lines "
                f"(fair floor {floor_slope:.2f})",
                "met" if slope <= 2 * floor_slope else "missed",
            )
        )
    else:
        out.append((name, "not measured (needs two scales)", "-"))
    fixed = o.get("pipeline")
    name = f"fixed cost: a refresh of {scale_label(o.get('lines') or 10_000)} lines <= 8 s"
    if fixed and fixed.get("wall_seconds") is not None:
        out.append(
            (
                name,
                f"{fixed['wall_seconds']:.1f} s",
                "met" if fixed["wall_seconds"] <= FIXED_COST_TARGET_S else "missed",
            )
        )
    else:
        out.append((name, "not measured", "-"))
    n = run.nightly
    name = "nightly: incremental refresh <= 10% of a full refresh"
    if n:
        out.append(
            (
                f"nightly ({scale_label(n['scale'])} history): incremental refresh <= 10% of a "
                "full refresh",
                f"{n['incremental_seconds']:.1f} s / {n['full_seconds']:.1f} s = {n['ratio']:.1%}",
                "met" if n["ratio"] <= NIGHTLY_TARGET else "missed",
            )
        )
    else:
        out.append((name, "not measured", "-"))
    p50 = run.result(MEMORY_TARGET_LINES, "pipeline")
    label50 = scale_label(MEMORY_TARGET_LINES)
    if p50 and p50.status == "ok":
        out.append(
            (
                f"{label50}: refresh peak memory < 2 GB",
                f"{p50.peak_rss_mb:,.0f} MB (process tree)",
                "met" if p50.peak_rss_mb < 2048 else "missed",
            )
        )
    else:
        out.append((f"{label50}: refresh peak memory < 2 GB", "not measured", "-"))
    return out


def markdown(run: BenchmarkRun, chart: str | None = "chart.png") -> str:
    m = run.machine
    lines = [
        f"Run {run.started_at} on commit `{m['git_commit']}`: {m['cpu']}, {m['cores']} logical "
        f"cores, {m['memory_gb']} GB RAM, {m['os']}, Python {m['python']}, DuckDB "
        f"{m['packages']['duckdb']}, dbt-core {m['packages']['dbt-core']}, dagster "
        f"{m['packages']['dagster']}, GX {m['packages']['great-expectations']}, pandas "
        f"{m['packages']['pandas']}.",
        "",
        "### Time and peak memory",
        "",
        "| scale | implementation | wall time (s) | CPU time (s) | peak RSS, process tree (MB) "
        "| largest process (MB) | wall time vs fair floor | load avg before → after |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for scale in run.scales:
        bare = run.result(scale, FLOOR)
        for name in IMPLEMENTATIONS:
            r = run.result(scale, name)
            if r is None:
                continue
            if r.status != "ok":
                lines.append(f"| {scale_label(scale)} | {LABELS[name]} | {r.note} | | | | | |")
                continue
            ratio = (
                f"{r.wall_seconds / bare.wall_seconds:.2f}x"
                if bare and bare.status == "ok"
                else "-"
            )
            lines.append(
                f"| {scale_label(scale)} | {LABELS[name]} | {_num(r.wall_seconds)} | "
                f"{_num(r.cpu_seconds)} | {_num(r.peak_rss_mb, 0)} | {_num(r.peak_process_mb, 0)} | "
                f"{ratio} | "
                f"{_num(r.load_before, 2)} → {_num(r.load_after, 2)} |"
            )
    lines += [
        "",
        "### kam refresh by stage (seconds, from Dagster's step timings)",
        "",
        "| scale | " + " | ".join(STAGES) + " | total | dbt models / tests / start-up "
        "| memory peak during |",
        "|---|" + "--:|" * (len(STAGES) + 2) + "---|",
    ]
    for scale in run.scales:
        r = run.result(scale, "pipeline")
        if r is None or r.status != "ok":
            continue
        split = "/".join(
            _num(r.detail.get(k)) for k in ("dbt_models", "dbt_tests", "dbt_startup_and_parse")
        )
        lines.append(
            f"| {scale_label(scale)} | "
            + " | ".join(_num(r.stages.get(s)) for s in STAGES)
            + f" | {_num(r.wall_seconds)} | {split} | {r.peak_during} |"
        )
    if run.overhead:
        lines += ["", *overhead_markdown(run)]
    lines += [
        "",
        "### Targets (measured, not asserted)",
        "",
        "| target | measured | |",
        "|---|---|---|",
        *(f"| {t} | {v} | {ok} |" for t, v, ok in targets(run)),
    ]
    if run.nightly:
        lines += ["", *nightly_markdown(run.nightly)]
    if run.totals:
        lines += ["", "### Agreement", ""]
        for scale, totals in run.totals.items():
            kav, cts = totals["key_account_value"], totals["cost_to_serve"]
            names = [
                LABELS[n]
                for n in IMPLEMENTATIONS
                if (r := run.result(scale, n)) and r.status == "ok"
            ]
            cost_lines = totals.get("cost_lines")
            published = (
                f"; cost_lines {cost_lines['rows']:,} rows (the fair floors: every published "
                "column of the three marts, month file by month file)"
                if cost_lines
                else ""
            )
            lines.append(
                f"- {scale_label(scale)}: {', '.join(names)} agree row by row: key_account_value "
                f"{kav['rows']:,} rows, total key-account value "
                f"{kav['key_account_value'] / 100:,.2f}, gross revenue "
                f"{kav['gross_revenue'] / 100:,.2f}; cost_to_serve {cts['rows']:,} rows, "
                f"{cts['amount'] / 100:,.2f} over {cts['cost_line_count']:,} cost lines"
                f"{published}."
            )
    if chart:
        lines += ["", f"![time and memory against scale]({chart})"]
        if run.memory_profiles:
            memory = chart.replace("chart.png", "memory.png")
            lines += ["", f"![memory of the refresh over time, by process]({memory})"]
    return "\n".join(lines) + "\n"


def nightly_markdown(n: dict) -> list[str]:
    """The nightly run: one daily drop on a history, against a full refresh of the same files."""
    stages = ", ".join(f"{k} {v:.1f}" for k, v in n["incremental_stages"].items())
    verdict = "met" if n["ratio"] <= NIGHTLY_TARGET else "missed"
    return [
        f"### Nightly run: one daily drop on a {scale_label(n['scale'])}-line history",
        "",
        "| run | wall time (s) | peak RSS (MB) |",
        "|---|--:|--:|",
        f"| incremental refresh with the drop ({n['drop_lines']:,} invoice lines, "
        f"{', '.join(n['drop_days'])}) | {_num(n['incremental_seconds'])} | "
        f"{_num(n['incremental_peak_mb'], 0)} |",
        f"| full refresh of the same files (`kam refresh --full`) | {_num(n['full_seconds'])} | "
        f"{_num(n['full_peak_mb'], 0)} |",
        "",
        f"Incremental / full = {n['ratio']:.1%} (target <= 10%: {verdict}). The nightly run "
        f"recomputed {len(n['scope_months'])} month(s) ({', '.join(n['scope_months'])}); its "
        f"stages: {stages}. Both publications were compared table by table: "
        f"{n['tables_compared']} tables, {n['rows_compared']:,} rows, identical.",
    ]


def overhead_markdown(run: BenchmarkRun) -> list[str]:
    o = run.overhead
    out = fixed_cost_markdown(o) if "pipeline" in o else []
    if "pipeline_seconds_per_million" in o:
        out += [
            "",
            "Least-squares line over the measured scales, wall time = intercept + slope x "
            "millions of invoice lines:",
            "",
            "| | intercept (s) | slope (s per million lines) |",
            "|---|--:|--:|",
        ]
        for name in IMPLEMENTATIONS:
            if f"{name}_seconds_per_million" in o:
                out.append(
                    f"| {LABELS[name]} | {o[f'{name}_intercept_seconds']:.1f} | "
                    f"{o[f'{name}_seconds_per_million']:.2f} |"
                )
        stages = [
            f"{s} {o[f'pipeline_{s}_seconds_per_million']:.2f}"
            for s in ("ingest", "dbt", "gx", "publish")
            if f"pipeline_{s}_seconds_per_million" in o
        ]
        out += ["", "Pipeline slope by stage (s per million lines): " + ", ".join(stages) + "."]
    return out


def fixed_cost_markdown(o: dict) -> list[str]:
    p = Result(**o["pipeline"])
    det = p.detail
    rows = [
        ("process start, imports, Dagster definitions", p.stages.get("startup")),
        ("  of which `import orchestration.definitions`", det.get("import_definitions")),
        ("Dagster run (planning, events, between steps)", p.stages.get("orchestration")),
        ("ingest (6 sources)", p.stages.get("ingest")),
        ("dbt step", p.stages.get("dbt")),
        ("  of which dbt start-up, parse, dagster-dbt", det.get("dbt_startup_and_parse")),
        ("  of which models / tests", None),
        ("GX checks", p.stages.get("gx")),
        ("  of which first check (GX import, context)", det.get("gx_first_check")),
        ("publish", p.stages.get("publish")),
        ("process exit", det.get("exit_after_run")),
        ("**total wall time**", p.wall_seconds),
    ]
    rows += [
        (f"{LABELS[name]}, same data (process incl. start)", o[name]["wall_seconds"])
        for name in (FLOOR, "duckdb")
        if name in o
    ]
    out = [
        f"### Fixed cost: a refresh of {scale_label(o['lines'])} invoice lines",
        "",
        "| part | seconds |",
        "|---|--:|",
    ]
    for name, v in rows:
        if name.endswith("models / tests"):
            v_text = f"{_num(det.get('dbt_models'))} / {_num(det.get('dbt_tests'))}"
        else:
            v_text = _num(v)
        out.append(f"| {name} | {v_text} |")
    return out


def chart(run: BenchmarkRun, path: Path) -> bool:
    """Time and peak memory against scale, log-log. False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {
        "pipeline": "o-",
        "duckdb_floor": "s-",
        "duckdb": "s:",
        "pandas_floor": "^-",
        "pandas": "^:",
    }
    for name in IMPLEMENTATIONS:
        pts = [
            (r.scale, r.wall_seconds, r.peak_rss_mb)
            for r in run.results
            if r.implementation == name and r.status == "ok"
        ]
        if not pts:
            continue
        pts.sort()
        xs = [p[0] for p in pts]
        ax_t.plot(xs, [p[1] for p in pts], styles[name], label=LABELS[name])
        ax_m.plot(xs, [p[2] for p in pts], styles[name], label=LABELS[name])
    skipped = [r for r in run.results if r.status == "skipped"]
    for i, r in enumerate(skipped):
        ax_t.annotate(
            f"{LABELS.get(r.implementation, r.implementation)}: skipped at {scale_label(r.scale)}",
            xy=(0.02, 0.95 - 0.05 * i),
            xycoords="axes fraction",
            fontsize=8,
        )
    ax_m.axhline(2048, color="grey", linewidth=0.8)
    ax_m.annotate("2 GB", xy=(run.scales[0], 2048), fontsize=8, color="grey")
    for ax, title, unit in ((ax_t, "wall time", "seconds"), (ax_m, "peak resident memory", "MB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("invoice lines")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.set_xticks(run.scales, [scale_label(s) for s in run.scales])
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"kam refresh vs bare DuckDB vs pandas, fair floor and 2 marts "
        f"({run.machine['cores']} cores)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def memory_chart(run: BenchmarkRun, path: Path) -> bool:
    """Resident memory over time, per process, of the refresh at the largest scale."""
    if not run.memory_profiles:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    lines = max(run.memory_profiles)
    profile = run.memory_profiles[lines]
    timeline = profile["timeline"]
    labels = sorted({k for _, point in timeline for k in point})
    labels.sort(key=lambda k: -max(point.get(k, 0) for _, point in timeline))
    xs = [t for t, _ in timeline]
    ys = [[point.get(k, 0) / MB for _, point in timeline] for k in labels]
    fig, ax = plt.subplots(figsize=(11, 4.2))
    ax.stackplot(xs, ys, labels=labels, alpha=0.8)
    colors = {"ingest": "#d0e4f5", "dbt": "#f5e3d0", "gx": "#dff5d0", "publish": "#eeeeee"}

    for key, (start, end) in profile["steps"].items():
        stage = stage_of_step(key)
        ax.axvspan(start, end, color=colors.get(stage, "#ffffff"), alpha=0.35, zorder=0)
    for stage, color in colors.items():
        ax.axvspan(0, 0, color=color, alpha=0.6, label=f"stage: {stage}")
    ax.axhline(2048, color="grey", linewidth=0.8)
    ax.set_xlabel("seconds since `kam refresh` started")
    ax.set_ylabel("resident memory (MB)")
    ax.set_title(f"kam refresh at {scale_label(lines)} invoice lines: memory by process")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_all(run: BenchmarkRun, results_dir: Path, docs: Path | None = None) -> dict[str, Path]:
    """Write results.{md,csv,json} and chart.png; update `docs` between the bench markers."""
    results_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": results_dir / "results.md",
        "csv": results_dir / "results.csv",
        "json": results_dir / "results.json",
        "chart": results_dir / "chart.png",
    }
    has_chart = chart(run, paths["chart"])
    if not has_chart:
        paths.pop("chart")
    paths["memory_chart"] = results_dir / "memory.png"
    if not memory_chart(run, paths["memory_chart"]):
        paths.pop("memory_chart")
    write_csv(run, paths["csv"])
    write_json(run, paths["json"])
    paths["markdown"].write_text(
        "# Latest benchmark results\n\n" + markdown(run, "chart.png" if has_chart else None),
        encoding="utf-8",
    )
    if docs is not None:
        update_docs(docs, markdown(run, "../bench/results/chart.png" if has_chart else None))
        paths["docs"] = docs
    return paths


def update_docs(docs: Path, section: str) -> None:
    text = docs.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ValueError(f"{docs}: markers {BEGIN} / {END} not found")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    docs.write_text(f"{head}{BEGIN}\n{section}{END}{tail}", encoding="utf-8")
