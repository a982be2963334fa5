"""`python -m bench` (also `kam bench`): run the benchmark and write bench/results/."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bench.datasets import BENCH_DIR, CACHE_DIR, parse_scale

PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
# as bench.harness.IMPLEMENTATIONS (not imported here: the harness imports much more)
IMPLEMENTATIONS = ("pipeline", "duckdb_floor", "duckdb", "pandas_floor", "pandas")

DEFAULT_SCALES = "1M,10M,50M"


def _scales(_ctx, _param, value: str) -> list[int]:
    try:
        scales = [parse_scale(s) for s in value.split(",") if s.strip()]
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    if not scales:
        raise click.BadParameter("give at least one scale")
    return sorted(set(scales))


def _overhead(_ctx, _param, value: str) -> int | None:
    if value.lower() in ("0", "none", "off"):
        return None
    try:
        return parse_scale(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@click.command(name="bench")
@click.option(
    "--scales",
    default=DEFAULT_SCALES,
    show_default=True,
    callback=_scales,
    help="Comma-separated invoice-line counts (20k, 1M, 10M, ...).",
)
@click.option(
    "--overhead-scale",
    default="10k",
    show_default=True,
    callback=_overhead,
    help="Tiny scale for the fixed-cost measurement ('off' to skip).",
)
@click.option(
    "--nightly-scale",
    default="10M",
    show_default=True,
    callback=_overhead,
    help="History size for the nightly run (one daily drop, incremental refresh, against a "
    "full refresh of the same files; 'off' to skip).",
)
@click.option(
    "--only",
    type=click.Choice(IMPLEMENTATIONS),
    multiple=True,
    help="Run only these implementations (repeatable; default: all five): the refresh, the "
    "fair floors (duckdb_floor, pandas_floor) and the two-mart variants (duckdb, pandas).",
)
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=CACHE_DIR,
    show_default=True,
    help="Where data sets and work folders live (gitignored).",
)
@click.option(
    "--results",
    type=click.Path(file_okay=False, path_type=Path),
    default=RESULTS_DIR,
    show_default=True,
    help="Where results.md, results.csv, results.json and chart.png are written.",
)
@click.option(
    "--update-docs/--no-update-docs",
    default=False,
    help="Also rewrite the results section of docs/benchmarks.md.",
)
def main(
    scales: list[int],
    overhead_scale: int | None,
    nightly_scale: int | None,
    only: tuple[str, ...],
    cache: Path,
    results: Path,
    update_docs: bool,
) -> None:
    """Time and peak memory of `kam refresh` against bare DuckDB and pandas (each as the fair
    floor and as the two marts of the earlier runs), per scale."""
    from bench.compare import MismatchError
    from bench.harness import run_benchmark
    from bench.nightly import NightlyMismatch
    from bench.report import write_all

    def log(msg: str) -> None:
        click.echo(msg, err=True)

    try:
        run = run_benchmark(
            scales,
            overhead_lines=overhead_scale,
            implementations=only or IMPLEMENTATIONS,
            cache_dir=cache,
            nightly_lines=nightly_scale,
            log=log,
        )
    except (MismatchError, NightlyMismatch) as e:
        click.echo(f"benchmark stopped, no timings reported: {e}", err=True)
        sys.exit(2)
    docs = PROJECT_ROOT / "docs" / "benchmarks.md" if update_docs else None
    for kind, path in write_all(run, results, docs).items():
        click.echo(f"{kind:>9}: {path}")


if __name__ == "__main__":
    main()
