"""Ingest one raw source incrementally: parse only new or changed files, apply the declared
rules, split every file's rows into accepted and quarantined.

Per raw file (named by its key, ledger.file_key):
- `warehouse/state/ingest/<source>/parts/<key>.parquet`: the parse part (parse.py), kept;
- `warehouse/ingested/<source>/<key>.parquet`: accepted rows, typed, with `_source_file` (path
  relative to data/raw) and `_source_row`; dbt reads `ingested/<source>/*.parquet`;
- `warehouse/quarantine/<source>/<key>.parquet`: rejected rows with file, row, reason and the
  raw record.
Invariant (a blocking asset check): raw rows = accepted + quarantined.

A run parses the files the ledger does not know with this content, then applies the rules that
look across files (rules.py) to all parts, and rewrites the outputs only of files whose part or
whose rule results changed. Before an output is replaced, the months its changed rows touch are
recorded as pending (orchestration/incremental/pending.py), so the marts recompute exactly
those months. The result equals ingesting every file from scratch (`reparse_all`).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from orchestration.duck import connect, quote_ident, quote_literal
from orchestration.ingest.file_rules import DateWindow
from orchestration.ingest.ledger import FileEntry, FilePlan, Ledger, plan_files
from orchestration.ingest.parse import parse_file, part_columns
from orchestration.ingest.plausibility import references
from orchestration.ingest.readers import discover_source
from orchestration.ingest.rules import (
    EXTRA_COLUMNS,
    Lookups,
    check_rows,
    create_lookups,
    find_duplicates,
    stop_on_taxonomy_mismatch,
)
from orchestration.scope.pending import Footprint, add_pending, footprint_of
from orchestration.settings import Settings
from orchestration.sources.contracts import SourceContract
from orchestration.state import INGEST_VERSION, ingest_state_dir

# Bump when parsing or rule code changes what a file yields: every file is then parsed again.
EMPTY_FILE = "_empty.parquet"  # keeps the schema when a source has no files (globs find one)
CONTEXT_COLUMNS = f"{EXTRA_COLUMNS}, _duplicate VARCHAR, _identical BOOLEAN"


@dataclass
class IngestResult:
    source: str
    files: list[str] = field(default_factory=list)  # relative to data/raw
    raw_rows: int = 0
    accepted_rows: int = 0
    quarantined_rows: int = 0
    duplicate_rows: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    parsed_files: list[str] = field(default_factory=list)  # new or changed this run
    rewritten_files: list[str] = field(default_factory=list)  # outputs written this run
    removed_files: list[str] = field(default_factory=list)
    footprint: Footprint = field(default_factory=Footprint)  # months the changes touch
    seconds: dict[str, float] = field(default_factory=dict)  # per phase: parse, rules, write
    notes: list[str] = field(default_factory=list)  # about whole files parsed this run


@dataclass(frozen=True)
class _Paths:
    state: Path
    parts: Path
    accepted: Path
    quarantine: Path

    @classmethod
    def of(cls, settings: Settings, source: str) -> _Paths:
        state = ingest_state_dir(settings, source)
        return cls(
            state,
            state / "parts",
            settings.accepted_dir(source),
            settings.quarantine_dir_of(source),
        )

    def part(self, key: str) -> Path:
        return self.parts / f"{key}.parquet"


def ingest_source(
    contract: SourceContract,
    settings: Settings,
    reparse_all: bool = False,
    today: date | None = None,
) -> IngestResult:
    """`today` (default: the run date) is the received day of new files (DateWindow)."""
    settings.ensure_dirs()
    paths = _Paths.of(settings, contract.name)
    for d in (paths.parts, paths.accepted, paths.quarantine):
        d.mkdir(parents=True, exist_ok=True)
    _remove_single_file_layout(settings, contract.name)
    files = discover_source(settings.raw_dir, contract.folder, contract.files, contract.file_type)
    ledger = Ledger.load(paths.state)
    fingerprint = _declaration_fingerprint(contract, settings)
    reparse = reparse_all or ledger.fingerprint != fingerprint
    plan = plan_files(ledger, settings.raw_dir, files, reparse, today or date.today())
    result = IngestResult(contract.name, [e.path for e in plan.current])
    con = connect(settings)
    clock = _Clock(result.seconds)
    try:
        for entry in plan.to_parse:
            raw = settings.raw_dir / entry.path
            window = DateWindow.of(settings.ingest.dates, date.fromisoformat(entry.received))
            parsed = parse_file(con, contract, raw, entry.path, paths.part(entry.key), window)
            entry.rows, entry.typical = parsed.rows, parsed.typical
            result.notes += parsed.notes
            stop_on_taxonomy_mismatch(con, contract, paths.part(entry.key), str(raw))
        clock.lap("parse")
        current = plan.current
        _drop_stale_parts(paths, current)
        con.execute("CREATE OR REPLACE TEMP TABLE _files (_file_key VARCHAR, _source_file VARCHAR)")
        if current:
            con.executemany("INSERT INTO _files VALUES (?, ?)", [[e.key, e.path] for e in current])
        refs = references(current, contract.plausibility)
        moved = _references_moved(plan, refs)
        lookups = create_lookups(con, contract, settings, refs)
        lookups_fp = lookups.fingerprint(con)
        stored = paths.state / "context.parquet"
        recheck_all = reparse or lookups_fp != ledger.lookups or not stored.exists()
        _apply_rules(con, contract, settings, paths, plan, stored, lookups, recheck_all, moved)
        changed_keys = _changed_context(con, stored)
        clock.lap("rules")
        to_write = {e.key for e in plan.to_parse} | changed_keys
        for entry in current:
            if entry.key in to_write or not (paths.accepted / f"{entry.key}.parquet").exists():
                _write_outputs(con, contract, settings, paths, entry, result)
                result.rewritten_files.append(entry.path)
        for entry in plan.removed:
            _remove_outputs(con, contract, settings, paths, entry, result)
            result.removed_files.append(entry.path)
        _write_empty(con, contract, paths)
        _save_context(con, stored)
        Ledger(fingerprint, {e.path: e for e in current}, lookups_fp).save(paths.state)
        result.parsed_files = [e.path for e in plan.to_parse]
        clock.lap("write")
        _count(con, paths, current, result)
        clock.lap("count")
        return result
    finally:
        con.close()


class _Clock:
    def __init__(self, laps: dict[str, float]):
        self.laps, self.last = laps, time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(now - self.last, 3)
        self.last = now


def _declaration_fingerprint(contract: SourceContract, settings: Settings) -> str:
    """Everything a part depends on besides the file: a change parses every file again.
    `required` decides whether a run may go on without rows, not what a file yields."""
    text = (
        INGEST_VERSION
        + contract.model_dump_json(exclude={"required"})
        + settings.ingest.dates.model_dump_json()
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _remove_single_file_layout(settings: Settings, source: str) -> None:
    """Outputs of versions before the per-file layout (one Parquet file per source)."""
    for d in (settings.ingested_dir, settings.quarantine_dir):
        (d / f"{source}.parquet").unlink(missing_ok=True)


def _references_moved(plan: FilePlan, refs: dict[str, dict]) -> set[str]:
    """Keys of unparsed files whose plausibility reference moved (a file sorting before them
    came, changed or went): their rows are judged again. Records the new references."""
    parsed = {e.key for e in plan.to_parse}
    moved = {e.key for e in plan.current if e.key not in parsed and e.references != refs[e.key]}
    for e in plan.current:
        e.references = refs[e.key]
    return moved


def _drop_stale_parts(paths: _Paths, current: list[FileEntry]) -> None:
    keep = {f"{e.key}.parquet" for e in current}
    for part in paths.parts.glob("*.parquet"):
        if part.name not in keep:
            part.unlink()


def _apply_rules(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    settings: Settings,
    paths: _Paths,
    plan: FilePlan,
    stored: Path,
    lookups: Lookups,
    recheck_all: bool,
    moved: set[str],
) -> None:
    """Create `_context`: every row the cross-file rules reject (rules.py).

    Reference, rate and plausibility results of unchanged files are reused unless a lookup
    table changed or their plausibility reference `moved`; duplicates are decided across all
    files whenever any file changed.
    """
    if stored.exists():
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _stored AS SELECT * FROM read_parquet({quote_literal(str(stored))})"
        )
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _stored ({CONTEXT_COLUMNS})")
    current = plan.current
    con.execute(f"CREATE OR REPLACE TEMP TABLE _extra ({EXTRA_COLUMNS})")
    parsed = {e.key for e in plan.to_parse}
    checked = [e for e in current if recheck_all or e.key in parsed or e.key in moved]
    if not recheck_all:
        kept = [e.key for e in current if e.key not in parsed and e.key not in moved]
        con.execute(
            "INSERT INTO _extra SELECT _file_key, _source_row, _extra FROM _stored "
            "WHERE len(_extra) > 0 AND list_contains(?, _file_key)",
            [kept],
        )
    check_rows(con, contract, settings, [paths.part(e.key) for e in checked], lookups)
    if recheck_all or plan.to_parse or plan.removed:
        find_duplicates(con, contract, [paths.part(e.key) for e in current])
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _dupes AS SELECT _file_key, _source_row, _identical, "
            "_duplicate FROM _stored WHERE _duplicate IS NOT NULL"
        )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _context AS
        SELECT _file_key, _source_row, _extra, NULL::VARCHAR AS _duplicate,
               NULL::BOOLEAN AS _identical
        FROM _extra
        UNION ALL
        SELECT _file_key, _source_row, []::VARCHAR[], _duplicate, _identical FROM _dupes
        """
    )


def _changed_context(con: duckdb.DuckDBPyConnection, stored: Path) -> set[str]:
    """Files whose rule results differ from the stored context of the last run."""
    if not stored.exists():
        return {k for (k,) in con.execute("SELECT _file_key FROM _files").fetchall()}
    old = f"read_parquet({quote_literal(str(stored))})"
    rows = con.execute(
        f"""
        SELECT DISTINCT _file_key FROM (
            (SELECT * FROM _context EXCEPT ALL SELECT * FROM {old})
            UNION ALL
            (SELECT * FROM {old} EXCEPT ALL SELECT * FROM _context)
        )
        """
    ).fetchall()
    return {k for (k,) in rows}


def _save_context(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    con.execute(f"COPY _context TO {quote_literal(str(tmp))} (FORMAT parquet)")
    os.replace(tmp, path)


def _write_outputs(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    settings: Settings,
    paths: _Paths,
    entry: FileEntry,
    result: IngestResult,
) -> None:
    """Write the file's accepted and quarantined rows; record the footprint of what changed.

    Accepted rows keep the part's columns. A file without a rejected row (the usual case) is
    accepted as it is: its output is a hard link to its part, no copy.
    """
    part_path = paths.part(entry.key)
    part = f"read_parquet({quote_literal(str(part_path))})"
    context = f"(SELECT * FROM _context WHERE _file_key = {quote_literal(entry.key)})"
    accepted = paths.accepted / f"{entry.key}.parquet"
    quarantine = paths.quarantine / f"{entry.key}.parquet"
    rejected = con.execute(
        f"SELECT (SELECT count(*) FROM {part} WHERE len(_problems) > 0) + "
        f"(SELECT count(*) FROM {context})"
    ).fetchone()[0]
    if rejected:
        new_accepted = _copy_tmp(
            con,
            f"""
            SELECT p.* FROM {part} AS p ANTI JOIN {context} AS c USING (_source_row)
            WHERE len(p._problems) = 0
            ORDER BY p._source_row
            """,
            accepted,
        )
        new_quarantine = _copy_tmp(
            con,
            f"""
            SELECT {quote_literal(contract.name)} AS source, p._source_file AS source_file,
                   p._source_row AS source_row,
                   array_to_string(list_concat(p._problems, coalesce(c._extra, []),
                       CASE WHEN c._duplicate IS NULL THEN [] ELSE [c._duplicate] END), '; ')
                       AS reason,
                   COALESCE(p._raw_record, CAST(to_json({{{_record_of(contract)}}}) AS VARCHAR))
                       AS raw_record
            FROM {part} AS p LEFT JOIN {context} AS c USING (_source_row)
            WHERE len(p._problems) > 0 OR c._source_row IS NOT NULL
            ORDER BY p._source_row
            """,
            quarantine,
        )
    else:
        new_accepted = accepted.with_name(f".{accepted.name}.tmp")
        new_accepted.unlink(missing_ok=True)
        os.link(part_path, new_accepted)
        new_quarantine = None
    _record_footprint(con, contract, settings, accepted, new_accepted, entry, result)
    os.replace(new_accepted, accepted)
    if new_quarantine is None:
        quarantine.unlink(missing_ok=True)
    else:
        os.replace(new_quarantine, quarantine)


def _remove_outputs(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    settings: Settings,
    paths: _Paths,
    entry: FileEntry,
    result: IngestResult,
) -> None:
    accepted = paths.accepted / f"{entry.key}.parquet"
    if accepted.exists():
        _record_footprint(con, contract, settings, accepted, None, entry, result)
    accepted.unlink(missing_ok=True)
    (paths.quarantine / f"{entry.key}.parquet").unlink(missing_ok=True)
    paths.part(entry.key).unlink(missing_ok=True)


def _record_footprint(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    settings: Settings,
    old: Path,
    new: Path | None,
    entry: FileEntry,
    result: IngestResult,
) -> None:
    """Pending months of the accepted rows that differ between the old and the new output."""
    if not old.exists() and new is None:
        return
    if not old.exists():
        changed = f"SELECT * FROM read_parquet({quote_literal(str(new))})"
        why = f"new file {entry.path}"
    elif new is None:
        changed = f"SELECT * FROM read_parquet({quote_literal(str(old))})"
        why = f"removed file {entry.path}"
    else:
        a, b = (f"read_parquet({quote_literal(str(p))})" for p in (old, new))
        changed = (
            f"(SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}) "
            f"UNION ALL (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a})"
        )
        why = f"changed rows of {entry.path}"
    fp = footprint_of(con, contract, changed, why)
    if fp:
        add_pending(settings, contract.name, fp)  # before the output changes: see pending.py
        result.footprint.add(fp)


def _copy_tmp(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> Path:
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({query}) TO {quote_literal(str(tmp))} (FORMAT parquet)")
    return tmp


def _write_empty(con: duckdb.DuckDBPyConnection, contract: SourceContract, paths: _Paths) -> None:
    """Zero-row files with the output schemas: a glob over a source always finds a file."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _empty ({part_columns(contract)})")
    for folder, query in (
        (paths.accepted, "SELECT * FROM _empty"),
        (
            paths.quarantine,
            "SELECT NULL::VARCHAR AS source, _source_file AS source_file, "
            "_source_row AS source_row, NULL::VARCHAR AS reason, _raw_record AS raw_record "
            "FROM _empty",
        ),
    ):
        target = folder / EMPTY_FILE
        os.replace(_copy_tmp(con, query, target), target)


def _record_of(contract: SourceContract) -> str:
    return ", ".join(f"{quote_literal(c.name)}: {quote_ident(c.name)}" for c in contract.columns)


def _count(
    con: duckdb.DuckDBPyConnection, paths: _Paths, current: list[FileEntry], result: IngestResult
) -> None:
    result.raw_rows = sum(e.rows for e in current)
    accepted = quote_literal(str(paths.accepted / "*.parquet"))
    result.accepted_rows = con.execute(f"SELECT count(*) FROM read_parquet({accepted})").fetchone()[
        0
    ]
    result.duplicate_rows = con.execute(
        "SELECT count(*) FROM _context WHERE _identical"
    ).fetchone()[0]
    q = quote_literal(str(paths.quarantine / "*.parquet"))
    result.quarantined_rows = con.execute(f"SELECT count(*) FROM read_parquet({q})").fetchone()[0]
    result.reasons = dict(
        con.execute(
            "SELECT trim(regexp_replace(p, '(: |''|\"|/| on or before ).*', '')), count(*) "
            f"FROM read_parquet({q}), unnest(string_split(reason, '; ')) t(p) "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 20"
        ).fetchall()
    )
