"""`kam`: the command line of kam-warehouse. The refresh commands are in refresh.py, the
source commands in sources.py; this module holds the group and the small commands."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from orchestration.cli.process import enable_fast_exit
from orchestration.cli.refresh import backfill, refresh
from orchestration.cli.sources import dbt_sources, sources
from orchestration.settings import ConfigError, Settings


class _Kam(click.Group):
    """A configuration problem ends any command with its message (file, line, key), never a
    traceback. `kam refresh` also records and alerts it; `kam status` shows it and exits 0."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as e:
            click.echo(f"kam {ctx.invoked_subcommand}: invalid configuration: {e}", err=True)
            sys.exit(1)


@click.group(cls=_Kam)
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
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON (for machines).")
def status(as_json: bool) -> None:
    """Last publication, whether `current` is the newest, last failure, row counts, freshness."""
    from orchestration.ops.config_check import config_state
    from orchestration.ops.status import collect_status, render

    info = collect_status(config_state())  # a configuration problem is shown, not raised
    click.echo(json.dumps(info, indent=2) if as_json else render(info))


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


main.add_command(refresh)
main.add_command(backfill)
main.add_command(dbt_sources)
main.add_command(sources)


def run() -> None:
    """Entry point of the `kam` program."""
    enable_fast_exit()
    main()
