"""`kam refresh` and `kam backfill`: run the refresh job and tell a person how it went."""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import NoReturn

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
    settings = _checked_settings()
    months = month_range(first, last)
    add_pending(
        settings,
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

    settings = _checked_settings()
    click.echo(
        f"refreshing {settings.data_dir} (reporting currency {settings.reporting_currency}"
        f"{', full rebuild' if full else ''})",
        err=True,
    )
    try:
        outcome = run_refresh(full=full)
    except Exception as e:  # loading the pipeline failed: no run, so nobody else reports it
        click.echo(traceback.format_exc(), err=True)
        _stop("refresh FAILED before its run", f"{type(e).__name__}: {e}")
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


def _checked_settings() -> Settings:
    """Fail fast, before any work: every configuration file (ops/config_check.py)."""
    from orchestration.ops.config_check import load_checked_settings
    from orchestration.settings import ConfigError

    try:
        return load_checked_settings()
    except ConfigError as e:
        _stop("refresh FAILED before it started", str(e))


def _stop(headline: str, error: str) -> NoReturn:
    """An unattended `kam refresh` (cron) that stops before its run is a failure too:
    recorded in failures.jsonl and alerted like any failed run."""
    from orchestration.ops.failures import (
        config_failure_record,
        failures_path,
        report_failure,
        reporting_settings,
    )

    click.echo(f"{headline}: {error}", err=True)
    click.echo("published/current unchanged", err=True)
    settings, alerts = reporting_settings()
    record = config_failure_record(error, reported_by="kam refresh", data_dir=settings.data_dir)
    path = failures_path(settings)
    try:
        reported = report_failure(settings, record, alerts)
    except OSError as e:  # a full disk must not hide the error itself
        click.echo(f"failure NOT recorded in {path}: {e}", err=True)
    else:
        click.echo(f"failure recorded in {path}; webhook {reported.webhook}", err=True)
    sys.exit(1)


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
