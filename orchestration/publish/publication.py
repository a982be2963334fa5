"""Write-audit-publish, last step: copy validated marts into a new publication folder and flip
`published/current` to it atomically.

A publication is a folder `published/<UTC timestamp>_<run id>/` holding

- `<mart>.parquet` for each small mart, `quarantine.parquet` and `ingest_summary.parquet`;
- `<mart>/<YYYY-MM>.parquet` for each month-partitioned mart (cost_lines, cost_to_serve): one
  file per month (rows in no particular order: a month file is small, readers filter);
- `kam.duckdb`, the serving file (storage readable by the older DuckDB that BI drivers bundle):
  the small marts as tables, the partitioned marts as views over this publication's month files
  by absolute path, so a reader who attached it keeps reading exactly this publication;
- `manifest.json`: row counts, the month files, the run's scope, what was carried over.

A month-scoped run writes only its months from the working database; every other month file is
hard-linked from the last publication the pipeline wrote (warehouse/state/last_publication, not
`current`, which a rollback may point at an older one). Publication files are never modified
in place, so publications can share them.

The folder is built under a hidden name and renamed when complete; then a new symlink replaces
`current` in one rename(2). Readers never see a half-written publication, and a failed run
never touches `current`. A killed run leaves its hidden folder and the link standing for the
final name (folders.leftovers); the next run removes them under the warehouse lock.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.duck import connect, quote_ident, quote_literal
from orchestration.publish.folders import (
    MANIFEST,
    PublishError,
    last_publication,
    prune,
    read_manifest,
    record_last_publication,
    staging_folder,
    switch_current,
)
from orchestration.scope.run_scope import RunScope, month_label
from orchestration.settings import Settings

log = logging.getLogger(__name__)

SERVING_DB = "kam.duckdb"
# Serving file readable by DuckDB >= 1.0 (BI drivers often bundle older DuckDB than ours).
SERVING_STORAGE_VERSION = "v1.0.0"
# zstd level 1: smaller than the default level 3 on these marts and about 12 % less CPU.
PARQUET = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"
QUALITY_TABLES = ("quarantine", "ingest_summary")
PUBLICATION_TABLE = "publication"  # in the serving file: name, run id, time, scope


@dataclass(frozen=True)
class MonthFile:
    mart: str
    month: date
    rows: int
    carried_from: Path | None = None  # publication folder it is hard-linked from

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def relative(self) -> str:
        return f"{self.mart}/{self.label}.parquet"


@dataclass(frozen=True)
class Publication:
    path: Path
    row_counts: dict[str, int]  # every published table, partitioned marts in total
    written_months: dict[str, list[str]] = field(default_factory=dict)
    carried_months: dict[str, list[str]] = field(default_factory=dict)


def publish(
    settings: Settings,
    marts: list[str],
    run_id: str,
    partitioned: dict[str, str] | None = None,
    scope: RunScope | None = None,
) -> Publication:
    """Publish `marts` from the working database; `partitioned` maps mart -> month column."""
    started = datetime.now(UTC)
    build = _Build(
        settings=settings,
        name=f"{started.strftime('%Y%m%dT%H%M%S%fZ')}_{run_id[:8]}",
        run_id=run_id,
        started=started,
        marts=marts,
        partitioned={m: c for m, c in (partitioned or {}).items() if m in marts},
        scope=scope or RunScope.everything(),
        base=last_publication(settings),
    )
    staging, final = build.staging, build.final
    staging.mkdir(parents=True)
    try:
        # The serving views name the final folder, and DuckDB binds a view when it is created:
        # while the publication is built, its final name is a symlink to the staging folder
        # (`publications()` and `current` never take a symlink for a publication).
        final.symlink_to(staging.name, target_is_directory=True)
        row_counts, months = build.write_content()
        if settings.data_docs_dir.exists():
            shutil.copytree(settings.data_docs_dir, staging / "data_docs")
        manifest = build.manifest(row_counts, months)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        # Read back through the link, before the rename: a kill can then leave only hidden
        # leftovers (removed by the next run), never a complete-looking unchecked publication.
        _verify(settings, final, manifest)
        final.unlink()
        staging.rename(final)
    except BaseException:
        if final.is_symlink():
            final.unlink()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    record_last_publication(settings, build.name)
    switch_current(settings.published_dir, build.name)
    prune(settings.published_dir, keep=settings.publications_to_keep, also_keep=final)
    return Publication(
        final,
        row_counts,
        written_months=_labels(months, build.partitioned, carried=False),
        carried_months=_labels(months, build.partitioned, carried=True),
    )


def _labels(months: list[MonthFile], partitioned, carried: bool) -> dict[str, list[str]]:
    return {
        mart: [
            f.label for f in months if f.mart == mart and (f.carried_from is not None) == carried
        ]
        for mart in partitioned
    }


# --- content ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Build:
    settings: Settings
    name: str
    run_id: str
    started: datetime
    marts: list[str]
    partitioned: dict[str, str]  # mart -> month column
    scope: RunScope
    base: Path | None  # the last publication written: where unchanged months come from

    @property
    def staging(self) -> Path:
        return staging_folder(self.settings.published_dir, self.name)

    @property
    def final(self) -> Path:
        return self.settings.published_dir / self.name

    def write_content(self) -> tuple[dict[str, int], list[MonthFile]]:
        folder = self.staging
        con = connect(self.settings)
        try:
            con.execute(
                f"ATTACH {quote_literal(str(self.settings.warehouse_db))} AS work (READ_ONLY)"
            )
            _attach_quality_views(con, self.settings)
            con.execute(
                f"ATTACH {quote_literal(str(folder / SERVING_DB))} AS serving "
                f"(STORAGE_VERSION '{SERVING_STORAGE_VERSION}')"
            )
            base_months = _base_months(self.base)
            months = [
                f
                for mart, column in self.partitioned.items()
                for f in _plan_months(
                    con, mart, column, self.scope, self.base, base_months.get(mart, {})
                )
            ]
            for mart in self.partitioned:
                (folder / mart).mkdir()
            for f in months:
                if f.carried_from is not None:
                    _link_or_copy(f.carried_from / f.relative, folder / f.relative)
            counts = self._write_tables_and_months(con, [f for f in months if not f.carried_from])
            for mart in self.partitioned:
                files = [f for f in months if f.mart == mart]
                _create_month_view(con, mart, files, self.final)
                counts[mart] = sum(f.rows for f in files)
            self._identify(con)
            con.execute("DETACH serving")
            return counts, months
        finally:
            con.close()

    def _write_tables_and_months(
        self, con: duckdb.DuckDBPyConnection, to_write: list[MonthFile]
    ) -> dict[str, int]:
        """Parquet files in parallel, each COPY on its own cursor (a month file scans the
        working table for its month); the serving tables are created meanwhile on `con`."""
        small = [m for m in self.marts if m not in self.partitioned]
        with ThreadPoolExecutor(max_workers=max(1, self.settings.threads)) as pool:
            # Cursors are made here, on this thread; each job uses and closes its own.
            months = [
                pool.submit(_copy_month, con.cursor(), self.partitioned[f.mart], f, self.staging)
                for f in to_write
            ]
            files = {m: pool.submit(_copy_mart_file, con.cursor(), m, self.staging) for m in small}
            try:
                for mart in small:
                    con.execute(
                        f"CREATE TABLE serving.{quote_ident(mart)} AS "
                        f"SELECT * FROM work.main.{quote_ident(mart)}"
                    )
                # The quality tables come from this connection's temporary views.
                counts = {t: _copy_quality_table(con, t, self.staging) for t in QUALITY_TABLES}
                counts = {m: files[m].result() for m in small} | counts
                for done in months:
                    done.result()
            except BaseException:
                for job in [*months, *files.values()]:
                    job.cancel()
                raise
        return counts

    def _identify(self, con: duckdb.DuckDBPyConnection) -> None:
        """Table `publication` of the serving file: which publication a reader has attached."""
        scope = "full" if self.scope.full else f"months {self.scope.describe()}"
        con.execute(
            f"CREATE TABLE serving.{PUBLICATION_TABLE} AS SELECT "
            f"{quote_literal(self.name)} AS publication, {quote_literal(self.run_id)} AS run_id, "
            f"TIMESTAMP '{self.started.replace(tzinfo=None).isoformat()}' AS published_at_utc, "
            f"{quote_literal(self.settings.reporting_currency)} AS reporting_currency, "
            f"{quote_literal(scope)} AS scope"
        )

    def manifest(self, row_counts: dict[str, int], months: list[MonthFile]) -> dict:
        carried = _labels(months, self.partitioned, carried=True)
        return {
            "publication": self.name,
            "run_id": self.run_id,
            "published_at": self.started.isoformat(),
            "reporting_currency": self.settings.reporting_currency,
            "scope": self.scope.dbt_var(),
            "tables": row_counts,
            "partitioned_marts": {
                mart: {
                    "partition_by": column,
                    "rows": row_counts[mart],
                    "months": {
                        f.label: {
                            "file": f.relative,
                            "rows": f.rows,
                            "carried_over": f.carried_from is not None,
                        }
                        for f in months
                        if f.mart == mart
                    },
                }
                for mart, column in self.partitioned.items()
            },
            "carried_over": {
                "from": self.base.name if self.base and any(carried.values()) else None,
                "months": carried,
            },
        }


def _copy_mart_file(cursor: duckdb.DuckDBPyConnection, mart: str, folder: Path) -> int:
    try:
        target = quote_literal(str(folder / f"{mart}.parquet"))
        return cursor.execute(
            f"COPY work.main.{quote_ident(mart)} TO {target} ({PARQUET})"
        ).fetchone()[0]
    finally:
        cursor.close()


def _copy_quality_table(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> int:
    target = quote_literal(str(folder / f"{table}.parquet"))
    con.execute(f"CREATE TABLE serving.{quote_ident(table)} AS SELECT * FROM {table}")
    return con.execute(f"COPY serving.{quote_ident(table)} TO {target} ({PARQUET})").fetchone()[0]


def _plan_months(
    con: duckdb.DuckDBPyConnection,
    mart: str,
    column: str,
    scope: RunScope,
    base: Path | None,
    base_rows: dict[str, int],
) -> list[MonthFile]:
    """One file per month of the working table: written, or carried over from `base`.

    A month outside the scope is carried over only when `base` has its file with the same row
    count; otherwise (a new month, a missing file, a count that moved) it is written afresh.
    Months `base` had that the working table no longer has are not carried over.
    """
    rows = con.execute(
        f"SELECT {quote_ident(column)}, count(*) FROM work.main.{quote_ident(mart)} "
        "GROUP BY ALL ORDER BY 1 NULLS FIRST"
    ).fetchall()
    plan = []
    for month, n in rows:
        if type(month) is not date or month.day != 1:
            raise PublishError(
                f"{mart}: {n:,} row(s) with {column} = {month!r}; a month-partitioned mart needs "
                f"the first day of a month in {column} on every row"
            )
        label = month_label(month)
        carry = (
            base is not None
            and not scope.covers(month)
            and base_rows.get(label) == n
            and (base / mart / f"{label}.parquet").is_file()
        )
        if base is not None and not scope.covers(month) and not carry:
            log.warning("%s %s: outside the run's scope but not carried over: written", mart, label)
        plan.append(MonthFile(mart, month, n, base if carry else None))
    return plan


def _copy_month(cursor: duckdb.DuckDBPyConnection, column: str, f: MonthFile, folder: Path) -> None:
    # No ORDER BY: sorting each month would cost 40-60 % more CPU for no reader's benefit.
    try:
        written = cursor.execute(
            f"COPY (SELECT * FROM work.main.{quote_ident(f.mart)} "
            f"WHERE {quote_ident(column)} = DATE '{f.month.isoformat()}') "
            f"TO {quote_literal(str(folder / f.relative))} ({PARQUET})"
        ).fetchone()[0]
    finally:
        cursor.close()
    if written != f.rows:
        raise PublishError(f"{f.relative}: wrote {written:,} rows, the mart has {f.rows:,}")


def _create_month_view(
    con: duckdb.DuckDBPyConnection, mart: str, files: list[MonthFile], final: Path
) -> None:
    """The serving view of a partitioned mart: exactly this publication's month files."""
    if not files:  # no rows at all: an empty table with the mart's columns
        con.execute(
            f"CREATE TABLE serving.{quote_ident(mart)} AS "
            f"SELECT * FROM work.main.{quote_ident(mart)} LIMIT 0"
        )
        return
    paths = ", ".join(quote_literal(str(final / f.relative)) for f in files)
    con.execute(f"CREATE VIEW serving.{quote_ident(mart)} AS SELECT * FROM read_parquet([{paths}])")


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link an unchanged month file; copy it when the file system cannot link."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _attach_quality_views(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Quarantined rows and per-source counts, published next to the marts for the controller.

    Reads both ingest layouts: one file per source (`<dir>/<source>.parquet`) and one file per
    raw file (`<dir>/<source>/<file>.parquet`); no files at all give empty tables.
    """
    quarantined = _ingest_files(settings.quarantine_dir)
    if quarantined:
        listed = ", ".join(quote_literal(str(p)) for p, _ in quarantined)
        rows = f"SELECT * FROM read_parquet([{listed}], union_by_name = true)"
    else:
        rows = (
            "SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS source_file, "
            "NULL::BIGINT AS source_row, NULL::VARCHAR AS reason, NULL::VARCHAR AS raw_record "
            "WHERE false"
        )
    con.execute(f"CREATE TEMP VIEW quarantine AS {rows} ORDER BY source, source_file, source_row")
    accepted: dict[str, int] = {}
    ingested = _ingest_files(settings.ingested_dir)
    if ingested:
        listed = ", ".join(quote_literal(str(p)) for p, _ in ingested)
        per_file = dict(
            con.execute(
                f"SELECT file_name, num_rows FROM parquet_file_metadata([{listed}])"
            ).fetchall()
        )
        for path, source in ingested:
            accepted[source] = accepted.get(source, 0) + per_file[str(path)]
    values = ", ".join(f"({quote_literal(s)}, {n}::BIGINT)" for s, n in sorted(accepted.items()))
    accepted_sql = (
        f"SELECT * FROM (VALUES {values}) t(source, accepted_rows)"
        if values
        else "SELECT NULL::VARCHAR AS source, NULL::BIGINT AS accepted_rows WHERE false"
    )
    con.execute(
        f"""
        CREATE TEMP VIEW ingest_summary AS
        WITH accepted AS ({accepted_sql}),
        rejected AS (SELECT source, count(*) AS quarantined_rows FROM quarantine GROUP BY ALL)
        SELECT source, coalesce(accepted_rows, 0) AS accepted_rows,
               coalesce(quarantined_rows, 0) AS quarantined_rows,
               coalesce(accepted_rows, 0) + coalesce(quarantined_rows, 0) AS raw_rows
        FROM accepted FULL JOIN rejected USING (source) ORDER BY source
        """
    )


def _ingest_files(folder: Path) -> list[tuple[Path, str]]:
    """(file, source) for `<folder>/<source>.parquet` and `<folder>/<source>/**/*.parquet`;
    hidden files and folders (an ingest's files in the making) are skipped."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*.parquet")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(".") for p in parts):
            found.append((path, path.stem if len(parts) == 1 else parts[0]))
    return found


# --- manifest, verification, state ---------------------------------------------------------


def _verify(settings: Settings, folder: Path, manifest: dict) -> None:
    """Read the finished publication back the way a BI reader does: every table of the serving
    file (views over the month files included) has the row count of the manifest."""
    con = connect(settings)
    try:
        con.execute(f"ATTACH {quote_literal(str(folder / SERVING_DB))} AS kam (READ_ONLY)")
        for table, expected in manifest["tables"].items():
            got = con.execute(f"SELECT count(*) FROM kam.{quote_ident(table)}").fetchone()[0]
            if got != expected:
                raise PublishError(
                    f"{folder.name}: {table} has {got:,} rows, expected {expected:,}"
                )
    finally:
        con.close()


def _base_months(base: Path | None) -> dict[str, dict[str, int]]:
    """mart -> {YYYY-MM: rows} of the month files in `base` (empty for an older layout)."""
    manifest = read_manifest(base) if base else None
    parts = (manifest or {}).get("partitioned_marts", {})
    return {
        mart: {label: int(m["rows"]) for label, m in info.get("months", {}).items()}
        for mart, info in parts.items()
    }
