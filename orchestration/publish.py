"""Write-audit-publish, last step: copy validated marts into a new publication folder and flip
`published/current` to it atomically.

A publication is a folder `published/<UTC timestamp>_<run id>/` holding one Parquet file per
table, `kam.duckdb` (a read-only serving copy, readable by older DuckDB versions that BI drivers
bundle) and `manifest.json`. It is built under a hidden name and renamed when complete; then a
new symlink replaces `current` in one rename(2). Readers never see a half-written publication,
and a failed run never touches `current`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.duck import connect, quote_ident, quote_literal
from orchestration.settings import Settings

CURRENT = "current"
SERVING_DB = "kam.duckdb"
# Serving file readable by DuckDB >= 1.0 (BI drivers often bundle older DuckDB than ours).
SERVING_STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class Publication:
    path: Path
    row_counts: dict[str, int]


def publish(settings: Settings, marts: list[str], run_id: str) -> Publication:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}_{run_id[:8]}"
    staging = settings.published_dir / f".{name}.partial"
    final = settings.published_dir / name
    staging.mkdir(parents=True)
    try:
        row_counts = _write_tables(settings, marts, staging)
        if settings.data_docs_dir.exists():
            shutil.copytree(settings.data_docs_dir, staging / "data_docs")
        manifest = {
            "publication": name,
            "run_id": run_id,
            "published_at": datetime.now(UTC).isoformat(),
            "reporting_currency": settings.reporting_currency,
            "tables": row_counts,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    switch_current(settings.published_dir, name)
    prune(settings.published_dir, keep=settings.publications_to_keep)
    return Publication(final, row_counts)


def _write_tables(settings: Settings, marts: list[str], folder: Path) -> dict[str, int]:
    con = connect(settings)
    try:
        con.execute(f"ATTACH {quote_literal(str(settings.warehouse_db))} AS work (READ_ONLY)")
        _attach_quality_views(con, settings)
        con.execute(
            f"ATTACH {quote_literal(str(folder / SERVING_DB))} AS serving "
            f"(STORAGE_VERSION '{SERVING_STORAGE_VERSION}')"
        )
        counts = {}
        for table in [*marts, "quarantine", "ingest_summary"]:
            source = f"work.main.{quote_ident(table)}" if table in marts else quote_ident(table)
            target = quote_literal(str(folder / f"{table}.parquet"))
            con.execute(f"CREATE TABLE serving.{quote_ident(table)} AS SELECT * FROM {source}")
            con.execute(
                f"COPY serving.{quote_ident(table)} TO {target} (FORMAT parquet, COMPRESSION zstd)"
            )
            counts[table] = con.execute(
                f"SELECT count(*) FROM serving.{quote_ident(table)}"
            ).fetchone()[0]
        con.execute("DETACH serving")
        return counts
    finally:
        con.close()


def _attach_quality_views(con, settings: Settings) -> None:
    """Quarantined rows and per-source counts, published next to the marts for the controller."""
    quarantine = quote_literal(str(settings.quarantine_dir / "*" / "*.parquet"))
    ingested = quote_literal(str(settings.ingested_dir / "*" / "*.parquet"))
    con.execute(
        f"CREATE TEMP VIEW quarantine AS SELECT * FROM read_parquet({quarantine}) "
        "ORDER BY source, source_file, source_row"
    )
    con.execute(
        f"""
        CREATE TEMP VIEW ingest_summary AS
        WITH accepted AS (
            SELECT parse_filename(parse_dirpath(filename)) AS source, count(*) AS accepted_rows
            FROM read_parquet({ingested}, filename = true, union_by_name = true) GROUP BY ALL),
        rejected AS (SELECT source, count(*) AS quarantined_rows FROM quarantine GROUP BY ALL)
        SELECT source, coalesce(accepted_rows, 0) AS accepted_rows,
               coalesce(quarantined_rows, 0) AS quarantined_rows,
               coalesce(accepted_rows, 0) + coalesce(quarantined_rows, 0) AS raw_rows
        FROM accepted FULL JOIN rejected USING (source) ORDER BY source
        """
    )


def switch_current(published_dir: Path, name: str) -> None:
    """Point `current` at publication `name` in a single atomic rename."""
    tmp = published_dir / f".{CURRENT}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(name, target_is_directory=True)
    os.replace(tmp, published_dir / CURRENT)


def current_publication(published_dir: Path) -> Path | None:
    link = published_dir / CURRENT
    return link.resolve() if link.is_symlink() else None


def publications(published_dir: Path) -> list[Path]:
    """Complete publications, oldest first (names sort by time)."""
    if not published_dir.exists():
        return []
    return sorted(
        p
        for p in published_dir.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )


def prune(published_dir: Path, keep: int) -> None:
    current = current_publication(published_dir)
    for old in publications(published_dir)[:-keep]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
