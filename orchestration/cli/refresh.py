"""`kam refresh` and `kam backfill`: run the refresh job and tell a person how it went."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from orchestration.cli.process import exit_now
from orchestration.settings import Settings


@click.command()
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


@click.command()
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
        _notes(outcome.notes)
        click.echo(f"full log: {outcome.log_file}", err=True)
        click.echo(outcome.failure_report, err=True)
        click.echo(
            f"published/current unchanged: {outcome.current or 'nothing published yet'}", err=True
        )
        exit_now(1)
    for step, seconds in outcome.step_seconds.items():
        click.echo(f"{seconds:8.1f} s  {step}", err=True)
    _notes(outcome.notes)
    click.echo(f"published {outcome.current} in {outcome.seconds:.1f} s")
    exit_now(0)


def _notes(notes: tuple[str, ...]) -> None:
    """E.g. `note: cost_budgets had no rows (optional source; ...): cost_budget_vs_actual empty`."""
    for note in notes:
        click.echo(f"note: {note}", err=True)


def _record_config_failure(settings: Settings, error: str) -> str:
    """An unattended `kam refresh` (cron) that stops on its configuration is a failure too."""
    from orchestration.ops.failures import config_failure_record, failures_path, report_failure
    from orchestration.settings import load_alerts

    record = config_failure_record(error, reported_by="kam refresh", data_dir=settings.data_dir)
    reported = report_failure(settings, record, load_alerts())
    return f"failure recorded in {failures_path(settings)}; webhook {reported.webhook}"


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
