"""One Dagster asset per raw source, generated from its contract in sources/*.yml, and the
freshness check of the raw drops.

A required source (`required: true` in its declaration) without rows fails its ingest, which
stops the refresh; an optional one without rows logs why and which marts will be empty, and
puts that line into the metadata key `no_rows` for the run summary (ingest/presence.py).

Asset keys are ["erp", <source>], the same keys dagster-dbt gives the dbt sources, so the
lineage raw file -> ingest -> staging model shows up without extra wiring.

Freshness: one non-blocking check per ingest asset (severity WARN). A source without a new file
for longer than its limit (`freshness:` in config/warehouse.yml) gets a warning on its asset;
the refresh still publishes what it has. All sources are checked in one step from file
modification times only, so the check costs next to nothing per run.
"""

from collections.abc import Iterator

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset_check,
)

from orchestration.defs.resources import WarehouseResource
from orchestration.duck import quote_literal
from orchestration.ingest.load import IngestResult, ingest_source
from orchestration.ingest.presence import check_rows, require_files
from orchestration.ops.config_check import check_reporting_currency
from orchestration.ops.freshness import Freshness, source_freshness
from orchestration.sources.contracts import EXCHANGE_RATES, SourceContract, load_contracts
from orchestration.sources.suite_refs import marts_empty_without

SOURCE_GROUP = "erp"
RECONCILE_CHECK = "raw_rows_reconcile"
NO_ROWS = "no_rows"  # metadata of an optional source's ingest without rows: why, which marts


def ingest_asset_key(source: str) -> AssetKey:
    return AssetKey([SOURCE_GROUP, source])


def build_ingest_asset(contract: SourceContract) -> AssetsDefinition:
    key = ingest_asset_key(contract.name)

    @asset(
        key=key,
        deps=[ingest_asset_key(d) for d in contract.depends_on],
        group_name="ingest",
        description=f"Ingest data/raw/{contract.folder}/: {' '.join(contract.description.split())}",
        kinds={"duckdb", "parquet"},
        check_specs=[
            AssetCheckSpec(
                RECONCILE_CHECK,
                asset=key,
                blocking=True,
                description="raw rows = accepted + quarantined (no row silently dropped)",
            )
        ],
    )
    def _ingest(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        settings = warehouse.settings()
        require_files(contract, settings)
        result = ingest_source(contract, settings)
        if contract.name == EXCHANGE_RATES:  # one early error, not every row quarantined
            check_reporting_currency(settings)
        context.log.info(
            f"{contract.name}: {len(result.files)} file(s) ({len(result.parsed_files)} new or "
            f"changed, {len(result.removed_files)} removed), {result.raw_rows:,} raw rows, "
            f"{result.accepted_rows:,} accepted, {result.quarantined_rows:,} quarantined "
            f"({result.duplicate_rows:,} duplicate re-exports)"
        )
        for note in result.notes:
            context.log.warning(f"{contract.name}: {note}")
        if result.quarantined_rows:
            context.log.warning(f"{contract.name}: quarantine reasons {result.reasons}")
        metadata = _metadata(result, settings.quarantine_glob(contract.name))
        if note := check_rows(contract, result, settings, marts_empty_without(contract.name)):
            context.log.warning(note)
            metadata[NO_ROWS] = note  # a line of the run summary (cli/runner.py)
        return MaterializeResult(metadata=metadata, check_results=[_reconcile_check(result)])

    return _ingest


def _reconcile_check(result: IngestResult) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=RECONCILE_CHECK,
        passed=result.raw_rows == result.accepted_rows + result.quarantined_rows,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "raw_rows": result.raw_rows,
            "accepted_rows": result.accepted_rows,
            "quarantined_rows": result.quarantined_rows,
        },
    )


def _metadata(result: IngestResult, quarantine_glob: str) -> dict[str, object]:
    sample = []
    if result.quarantined_rows:
        # A connection of its own: DuckDB's process-wide default connection may hold another
        # caller's unfinished result (DuckDB 2.0 then refuses new work on it).
        with duckdb.connect() as con:
            sample = con.execute(
                "SELECT source_file, source_row, reason "
                f"FROM read_parquet({quote_literal(quarantine_glob)}) LIMIT 10"
            ).fetchall()
    rows = "\n".join(f"| {f.rsplit('/', 1)[-1]} | {r} | {why} |" for f, r, why in sample)
    return {
        "files": MetadataValue.json(result.files),
        "parsed_files": MetadataValue.json(result.parsed_files),
        "rewritten_outputs": MetadataValue.json(result.rewritten_files),
        "removed_files": MetadataValue.json(result.removed_files),
        "pending_months": MetadataValue.json(result.footprint.to_json()),
        "raw_rows": result.raw_rows,
        "accepted_rows": result.accepted_rows,
        "quarantined_rows": result.quarantined_rows,
        "duplicate_rows": result.duplicate_rows,
        "quarantine_reasons": MetadataValue.json(result.reasons),
        "quarantine_sample": MetadataValue.md(
            "| file | row | reason |\n|---|---|---|\n" + rows if rows else "(none)"
        ),
    }


ingest_assets = [build_ingest_asset(c) for c in load_contracts().values()]


FRESHNESS_CHECK = "raw_files_fresh"


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            FRESHNESS_CHECK,
            asset=ingest_asset_key(name),
            blocking=False,
            description=f"a new file arrived in the raw folder of {name} within its limit "
            "(freshness: in config/warehouse.yml); warns, never blocks publishing",
        )
        for name in load_contracts()
    ],
    name="raw_files_freshness",
    can_subset=True,
)
def raw_files_freshness(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[AssetCheckResult]:
    settings = warehouse.settings()
    contracts = load_contracts()
    settings.check_freshness_sources(set(contracts))
    limits = settings.freshness
    for key in sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.path):
        source = key.asset_key.path[-1]
        f = source_freshness(settings.raw_dir, contracts[source], limits.max_age_days(source))
        if not f.fresh:  # shown among the progress lines of `kam refresh`
            context.log.warning(f"freshness WARNING: {describe_freshness(f)}")
        yield AssetCheckResult(
            asset_key=key.asset_key,
            check_name=FRESHNESS_CHECK,
            passed=f.fresh,
            severity=AssetCheckSeverity.WARN,
            description=describe_freshness(f),
            metadata=_freshness_metadata(f),
        )


def _freshness_metadata(f: Freshness) -> dict[str, object]:
    """Newest file, its time, age and limit; a missing value (no file, no limit) is left out."""
    values = {
        "newest_file": f.newest_file,
        "newest_file_time": f.newest_mtime,
        "age_days": None if f.age_days is None else MetadataValue.float(f.age_days),
        "max_age_days": None if f.max_age_days is None else MetadataValue.float(f.max_age_days),
        "files": f.files,
        "status": f.status,
    }
    return {k: v for k, v in values.items() if v is not None}


def describe_freshness(f: Freshness) -> str:
    if f.status == "ERROR":
        return f"cannot list the files of {f.source}: {f.problem}"
    if f.status == "NO FILES":
        return f"no file in the raw folder of {f.source}"
    if f.status == "OFF":
        return f"{f.source}: no freshness limit (newest file {f.newest_file or '-'})"
    verdict = "within" if f.status == "OK" else "older than"
    return (
        f"{f.source}: newest file {f.newest_file} is {f.age_days:.1f} days old, "
        f"{verdict} the limit of {f.max_age_days:g} days"
    )
