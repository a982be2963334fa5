"""Freshness of the raw drops: one non-blocking check per ingest asset (severity WARN).

A source without a new file for longer than its limit (`freshness:` in config/warehouse.yml)
gets a warning on its asset; the refresh still publishes what it has. All sources are checked
in one step from file modification times only, so the check costs next to nothing per run.
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    multi_asset_check,
)

from orchestration.assets.ingest import ingest_asset_key
from orchestration.freshness import Freshness, source_freshness
from orchestration.ingest.contracts import load_contracts
from orchestration.ops_config import load_ops_config
from orchestration.resources import WarehouseResource

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
    limits = load_ops_config().freshness
    contracts = load_contracts()
    for key in sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.path):
        source = key.asset_key.path[-1]
        f = source_freshness(settings.raw_dir, contracts[source], limits.max_age_days(source))
        if not f.fresh:  # shown among the progress lines of `kam refresh`
            context.log.warning(f"freshness WARNING: {describe(f)}")
        yield AssetCheckResult(
            asset_key=key.asset_key,
            check_name=FRESHNESS_CHECK,
            passed=f.fresh,
            severity=AssetCheckSeverity.WARN,
            description=describe(f),
            metadata=_metadata(f),
        )


def _metadata(f: Freshness) -> dict[str, object]:
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


def describe(f: Freshness) -> str:
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
