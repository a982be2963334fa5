"""`kam sources ...` and `kam dbt-sources`: the declared raw sources and the dbt files
generated from them."""

from __future__ import annotations

import sys

import click

from orchestration.settings import Settings


@click.command("dbt-sources")
def dbt_sources() -> None:
    """Regenerate the dbt files derived from the raw data contracts in sources/ (dbt sources,
    cost-source staging models, the kam_cost_sources macro). `kam refresh` does it first."""
    from orchestration.sources.dbt_codegen import write_generated

    changed = write_generated()
    for path in changed:
        click.echo(f"wrote {path}")
    if not changed:
        click.echo("dbt files are up to date with sources/")


@click.group()
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
