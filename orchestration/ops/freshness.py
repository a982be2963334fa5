"""How old is each source's newest raw file? For the freshness checks and `kam status`.

Only stat calls: the files a refresh would read (discover_source with the source's declared
folder, pattern and format) and their modification times; no file is opened.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.ingest.readers import IngestError, discover_source
from orchestration.sources.contracts import SourceContract

DAY = 86_400.0


@dataclass(frozen=True)
class Freshness:
    source: str
    files: int
    newest_file: str | None  # relative to the raw folder
    newest_mtime: str | None  # ISO time, UTC
    age_days: float | None
    max_age_days: float | None  # None: no limit for this source
    status: str  # OK, STALE, NO FILES, OFF, ERROR
    problem: str | None = None

    @property
    def fresh(self) -> bool:
        return self.status in ("OK", "OFF")

    def to_dict(self) -> dict:
        return asdict(self)


def source_freshness(
    raw_dir: Path, contract: SourceContract, max_age_days: float | None, now: float | None = None
) -> Freshness:
    now = time.time() if now is None else now
    try:
        files = discover_source(raw_dir, contract.folder, contract.files, contract.file_type)
        stamped = [(p.stat().st_mtime, p) for p in files]
    except (IngestError, OSError) as e:
        return Freshness(contract.name, 0, None, None, None, max_age_days, "ERROR", str(e))
    if not stamped:
        status = "OFF" if max_age_days is None else "NO FILES"
        return Freshness(contract.name, 0, None, None, None, max_age_days, status)
    mtime, newest = max(stamped)
    age = max(0.0, (now - mtime) / DAY)
    status = "OFF" if max_age_days is None else "OK" if age <= max_age_days else "STALE"
    return Freshness(
        source=contract.name,
        files=len(stamped),
        newest_file=_relative(newest, raw_dir),
        newest_mtime=datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds"),
        age_days=round(age, 2),
        max_age_days=max_age_days,
        status=status,
    )


def _relative(path: Path, raw_dir: Path) -> str:
    try:
        return str(path.relative_to(raw_dir))
    except ValueError:
        return str(path)
