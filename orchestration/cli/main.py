"""`kam`: the command line of kam-warehouse."""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from orchestration.settings import Settings


@click.group()
def main() -> None:
    """kam-warehouse: key-account value and cost-to-serve marts from raw ERP exports."""


@main.command()
@click.option(
    "--invoice-lines",
    type=click.IntRange(min=1),
    required=True,
    help="Number of invoice lines to generate (exact).",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write <source>/<file> into, e.g. data/raw.",
)
@click.option("--months", type=click.IntRange(min=1), default=36, show_default=True)
def generate(invoice_lines: int, seed: int, fmt: str, out: Path, months: int) -> None:
    """Write a deterministic, realistic demo data set in the raw data contract."""
    from orchestration.demo_data import generate as gen

    started = time.monotonic()
    counts = gen(out, invoice_lines=invoice_lines, seed=seed, fmt=fmt, months=months)
    width = max(map(len, counts))
    for source, n in counts.items():
        click.echo(f"{source:>{width}}: {n:,} rows")
    click.echo(f"written to {out} in {time.monotonic() - started:.1f} s")


@main.command()
@click.option(
    "--timings-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the outcome with Dagster's per-step timings to this JSON file "
    "(read by the benchmark harness, bench/).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild from scratch: forget what was ingested and built (data/warehouse/), parse "
    "every raw file again and recompute every month. The publications and the key-account "
    "designation history are kept.",
)
def refresh(timings_json: Path | None, full: bool) -> None:
    """Ingest new and changed raw files, rebuild the affected months, validate, publish.

    Only raw files that are new or changed since the last run are parsed, and only the months
    their rows touch are recomputed (see docs/incremental.md); the first run, and a run
    after a change of configuration or code, rebuilds everything.
    """
    _run_refresh(timings_json, full=full)


@main.command()
@click.option(
    "--from",
    "first",
    required=True,
    callback=lambda c, p, v: _month(v),
    help="First month, YYYY-MM.",
)
@click.option(
    "--to", "last", required=True, callback=lambda c, p, v: _month(v), help="Last month, YYYY-MM."
)
@click.option("--timings-json", type=click.Path(dir_okay=False, path_type=Path), hidden=True)
def backfill(first, last, timings_json: Path | None) -> None:
    """Recompute, validate and publish the months FROM..TO (e.g. after a fix of the data).

    New or changed raw files are ingested as in any refresh, and their months are recomputed
    too.
    """
    from orchestration.scope.pending import Footprint, add_pending, month_range

    if last < first:
        raise click.BadParameter(f"--to {last:%Y-%m} is before --from {first:%Y-%m}")
    months = month_range(first, last)
    add_pending(
        Settings.load(),
        "_backfill",
        Footprint(months=set(months), reasons=[f"kam backfill {first:%Y-%m}..{last:%Y-%m}"]),
    )
    click.echo(f"backfill: {len(months)} month(s) {first:%Y-%m}..{last:%Y-%m}", err=True)
    _run_refresh(timings_json, full=False)


def _month(value: str):
    from datetime import date

    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month YYYY-MM (e.g. 2025-01)") from None


def _run_refresh(timings_json: Path | None, full: bool) -> None:
    entered = time.time()
    from orchestration.cli.runner import run_refresh
    from orchestration.costing.declarations import validate_sources
    from orchestration.settings import ConfigError
    from orchestration.sources.contracts import load_contracts
    from orchestration.steering.config import KamConfigError, load_kam_config

    settings = Settings.fallback()
    try:  # fail fast, before any work: settings, scoring matrix and lifecycle rules, sources
        settings = Settings.load()
        settings.check_freshness_sources(set(load_contracts()))
        load_kam_config(settings.scoring_config, settings.lifecycle_config)
        if problems := validate_sources(settings.activity_rates_file):
            raise KamConfigError("invalid source declarations:\n  " + "\n  ".join(problems))
    except (KamConfigError, ConfigError) as e:
        click.echo(f"refresh FAILED before it started: {e}", err=True)
        click.echo("published/current unchanged", err=True)
        click.echo(_record_config_failure(settings, str(e)), err=True)
        sys.exit(1)
    click.echo(
        f"refreshing {settings.data_dir} (reporting currency {settings.reporting_currency}"
        f"{', full rebuild' if full else ''})",
        err=True,
    )
    outcome = run_refresh(full=full)
    if timings_json:
        _write_timings(timings_json, outcome, entered)
    if not outcome.success:
        click.echo(f"\nrefresh FAILED: {outcome.error}", err=True)
        click.echo(f"full log: {outcome.log_file}", err=True)
        click.echo(outcome.failure_report, err=True)
        click.echo(
            f"published/current unchanged: {outcome.current or 'nothing published yet'}", err=True
        )
        _exit_now(1)
    for step, seconds in outcome.step_seconds.items():
        click.echo(f"{seconds:8.1f} s  {step}", err=True)
    click.echo(f"published {outcome.current} in {outcome.seconds:.1f} s")
    _exit_now(0)


def _record_config_failure(settings: Settings, error: str) -> str:
    """An unattended `kam refresh` (cron) that stops on its configuration is a failure too."""
    from orchestration.ops.failures import config_failure_record, failures_path, report_failure
    from orchestration.settings import load_alerts

    record = config_failure_record(error, reported_by="kam refresh", data_dir=settings.data_dir)
    reported = report_failure(settings, record, load_alerts())
    return f"failure recorded in {failures_path(settings)}; webhook {reported.webhook}"


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON (for machines).")
def status(as_json: bool) -> None:
    """Last publication, whether `current` is the newest, last failure, row counts, freshness."""
    from orchestration.ops.status import collect_status, render

    info = collect_status(Settings.load())
    click.echo(json.dumps(info, indent=2) if as_json else render(info))


_FAST_EXIT = False  # set by the `kam` program itself (run()), never under click's CliRunner


def run() -> None:
    """Entry point of the `kam` program."""
    global _FAST_EXIT
    _FAST_EXIT = True
    main()


def _exit_now(code: int) -> NoReturn:
    """End the process without tearing the interpreter down object by object.

    After a refresh the process holds Dagster, dbt, GX, pandas and their caches; Python's
    orderly shutdown frees all of that one object at a time, which took about 2 s of every
    `kam refresh`. Everything the refresh writes is closed by then; the exit handlers (log
    flushing, temporary files) still run, then the OS reclaims the memory at once. Only the
    `kam` program does this; called in-process (tests, CliRunner) it exits normally.
    """
    if not _FAST_EXIT:
        sys.exit(code)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _write_timings(path: Path, outcome, entered: float) -> None:
    data = {
        "success": outcome.success,
        "run_id": outcome.run_id,
        "seconds": outcome.seconds,
        "error": outcome.error,
        "current": str(outcome.current) if outcome.current else None,
        "step_seconds": outcome.step_seconds,
        "step_windows": outcome.step_windows,
        "timeline": {"cli_entered": entered, **outcome.timeline, "cli_done": time.time()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


@main.command("dbt-sources")
def dbt_sources() -> None:
    """Regenerate the dbt files derived from the raw data contracts in sources/ (dbt sources,
    cost-source staging models, the kam_cost_sources macro). `kam refresh` does it first."""
    from orchestration.sources.dbt_codegen import write_generated

    changed = write_generated()
    for path in changed:
        click.echo(f"wrote {path}")
    if not changed:
        click.echo("dbt files are up to date with sources/")


@main.command(
    name="bench",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Benchmark: refresh vs bare DuckDB vs pandas (= `python -m bench`; see --help)."""
    # A separate program (bench/ is not part of the package): run it as `python -m bench`.
    import subprocess

    from orchestration.settings import PROJECT_ROOT

    if not (PROJECT_ROOT / "bench" / "__main__.py").exists():
        raise click.ClickException(
            "the benchmark harness lives in the repository's bench/ folder; run "
            "`python -m bench` from a checkout"
        )
    code = subprocess.call([sys.executable, "-m", "bench", *args], cwd=PROJECT_ROOT)
    sys.exit(code)


@main.command("reset-designations")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset_designations(yes: bool) -> None:
    """Move the key-account designation log aside; the next refresh re-decides every scoring date.

    Normally decisions of past scoring dates are frozen (the history keeps the scores and the
    matrix they were taken under). Use this after a deliberate change of the matrix that should
    apply to the whole history. The old log is kept as a timestamped backup next to it.
    """
    from orchestration.steering.history import log_path, reset_designation_log

    settings = Settings.load()
    if not yes:
        click.confirm(f"Move {log_path(settings)} aside and rebuild the history?", abort=True)
    backup = reset_designation_log(settings)
    click.echo(f"moved to {backup}" if backup else "no designation log yet: nothing to reset")


@main.command()
@click.option("--to", "name", help="Name of the publication folder to switch to.")
def rollback(name: str | None) -> None:
    """Point published/current at the previous complete publication (or NAME), atomically.

    Only the `current` link changes: the working warehouse (data/warehouse), the designation
    log and the older publications stay as they are. BI readers see the older publication at
    once; the next successful `kam refresh` publishes again from the working warehouse.
    """
    from orchestration.publish.folders import PublishError
    from orchestration.publish.folders import rollback as switch_back

    published = Settings.load().published_dir
    try:
        before, after = switch_back(published, name)
    except PublishError as e:
        click.echo(f"rollback FAILED: {e}", err=True)
        sys.exit(1)
    click.echo(f"current: {before.name if before else 'nothing'} -> {after.name}")


@main.group()
def sources() -> None:
    """Declared raw sources (sources/*.yml): list, validate, new."""


@sources.command("list")
def sources_list() -> None:
    """Every declared source with its last load, row counts and quarantine counts."""
    from orchestration.ops.sources_status import source_status

    rows = source_status(Settings.load())
    header = ("source", "kind", "last load", "raw", "accepted", "quarantined", "owner")
    table = [header] + [
        (
            r["source"],
            r["kind"],
            r["last_load"] or "never",
            _n(r["raw_rows"]),
            _n(r["accepted_rows"]),
            _n(r["quarantined_rows"]),
            r["owner"] or "",
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


@sources.command("validate")
def sources_validate() -> None:
    """Check every declaration in sources/ (schema, references, activity catalogue)."""
    from orchestration.costing.declarations import validate_sources
    from orchestration.settings import SOURCES_DIR

    problems = validate_sources(Settings.load().activity_rates_file)
    if problems:
        click.echo("invalid source declarations:\n  " + "\n  ".join(problems), err=True)
        sys.exit(1)
    click.echo(f"all declarations in {SOURCES_DIR} are valid")


@sources.command("new")
@click.argument("name")
def sources_new(name: str) -> None:
    """Write a commented template declaration sources/NAME.yml for a new cost source."""
    from orchestration.settings import SOURCES_DIR
    from orchestration.sources.contracts import IDENTIFIER
    from orchestration.sources.template import new_source_template

    if not IDENTIFIER.match(name):
        click.echo(f"NAME {name!r} must be a plain identifier ([a-z_][a-z0-9_]*)", err=True)
        sys.exit(1)
    path = SOURCES_DIR / f"{name}.yml"
    if path.exists():
        click.echo(f"{path} exists already", err=True)
        sys.exit(1)
    path.write_text(new_source_template(name), encoding="utf-8")
    click.echo(
        f"wrote {path}: edit it, drop files into data/raw/{name}/, run `kam sources validate`"
    )
