"""The processed-files ledger of one source: which raw files were ingested, with which content.

A raw file is identified by its path relative to data/raw and its content hash (BLAKE2b). A
file whose size, modification time and inode change time are as recorded is not read again:
rewriting a file always changes its change time (ctime), which no copy tool can set back, so
only files that may have changed are hashed. A file with a new hash was changed (same name, new
content) and is parsed again; its old rows are replaced, never added to.

Stored as `warehouse/state/ingest/<source>/ledger.json`, written atomically once the source's
outputs are in place. `fingerprint` ties the ledger to the declaration and ingest code that
parsed the files: when either changes, every file is parsed again.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from orchestration.state import LEDGER_FILE, read_json, write_json_atomic


@dataclass
class FileEntry:
    path: str  # relative to data/raw, e.g. "invoice_lines/invoice_lines_2025-04.csv"
    key: str  # name of its parse part and outputs (see file_key)
    size: int
    mtime_ns: int
    ctime_ns: int
    content_hash: str
    rows: int = 0  # raw rows (data records) in the file
    # ISO day this content was first ingested: anchors its plausible dates (file_rules.DateWindow)
    received: str = ""
    # Plausibility guard (plausibility.py): the file's 99th percentile of each watched value,
    # and the reference its rows were last judged by.
    typical: dict[str, float | None] = field(default_factory=dict)
    references: dict[str, float | None] = field(default_factory=dict)

    def same_stat(self, st: os.stat_result) -> bool:
        return (self.size, self.mtime_ns, self.ctime_ns) == (
            st.st_size,
            st.st_mtime_ns,
            st.st_ctime_ns,
        )


@dataclass
class Ledger:
    fingerprint: str = ""
    files: dict[str, FileEntry] = field(default_factory=dict)  # by relative path
    lookups: str = ""  # fingerprint of the lookup tables the rules used (rules.Lookups)

    @classmethod
    def load(cls, folder: Path) -> Ledger:
        data = read_json(folder / LEDGER_FILE)
        if data is None:
            return cls()
        files = {p: FileEntry(**e) for p, e in data.get("files", {}).items()}
        return cls(data.get("fingerprint", ""), files, data.get("lookups", ""))

    def save(self, folder: Path) -> None:
        data = {
            "fingerprint": self.fingerprint,
            "lookups": self.lookups,
            "files": {p: asdict(e) for p, e in self.files.items()},
        }
        write_json_atomic(folder / LEDGER_FILE, data, sort_keys=True)


@dataclass(frozen=True)
class FilePlan:
    """What a run does with a source's files."""

    unchanged: list[FileEntry]
    to_parse: list[FileEntry]  # new files, or files whose content changed
    removed: list[FileEntry]  # in the ledger, no longer in data/raw

    @property
    def current(self) -> list[FileEntry]:
        """Every file now in data/raw, sorted by path (the delivery order)."""
        return sorted(self.unchanged + self.to_parse, key=lambda e: e.path)


def plan_files(
    ledger: Ledger, raw_dir: Path, files: list[Path], reparse_all: bool, today: date
) -> FilePlan:
    """`today` becomes the received day of new content; content seen before keeps its day."""
    unchanged, to_parse = [], []
    seen = set()
    for path in files:
        rel = path.relative_to(raw_dir).as_posix()
        seen.add(rel)
        st = path.stat()
        old = ledger.files.get(rel)
        if old is not None and old.same_stat(st) and not reparse_all:
            unchanged.append(old)
            continue
        digest = content_hash(path)
        entry = FileEntry(rel, file_key(rel), st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest)
        same = old is not None and old.content_hash == digest
        entry.received = old.received if same and old.received else today.isoformat()
        if same and not reparse_all:
            # touched or copied, same content: nothing to parse
            entry.rows, entry.typical, entry.references = old.rows, old.typical, old.references
            unchanged.append(entry)
        else:
            to_parse.append(entry)
    removed = [e for rel, e in ledger.files.items() if rel not in seen]
    return FilePlan(unchanged, to_parse, removed)


def content_hash(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()[:32]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_key(rel_path: str) -> str:
    """A file name for the parse part and outputs of a raw file: readable, and unique per path
    (folders flattened, other characters replaced, plus a short hash of the exact path)."""
    readable = _UNSAFE.sub("_", rel_path.replace("/", "__"))[-80:]
    return f"{readable}-{hashlib.blake2b(rel_path.encode(), digest_size=4).hexdigest()}"
