"""Benchmark data sets: generated once per scale with the project's own generator, then reused.

`bench/cache/<lines>/raw/` holds the raw files (German CSV, as `kam generate` writes them) and
`bench/cache/<lines>/dataset.json` records the generator arguments, a fingerprint of the
generator's code and the row counts. The marker is written last, so an interrupted generation
is redone, never reused half-written; a changed generator regenerates the data set.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
GENERATOR_DIR = BENCH_DIR.parent / "orchestration" / "demo_data"
CACHE_DIR = BENCH_DIR / "cache"
SEED = 42
MARKER = "dataset.json"
_SCALE = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


def parse_scale(text: str) -> int:
    """'20k' -> 20_000, '1M' -> 1_000_000, '2500' -> 2500."""
    m = _SCALE.match(text.strip().replace("_", ""))
    if not m:
        raise ValueError(f"not a scale: {text!r} (use e.g. 20k, 1M, 10M or a number of lines)")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    lines = round(float(m.group(1)) * factor)
    if lines < 1:
        raise ValueError(f"scale must be at least 1 invoice line, got {text!r}")
    return lines


def scale_label(lines: int) -> str:
    if lines % 1_000_000 == 0:
        return f"{lines // 1_000_000}M"
    if lines % 1_000 == 0:
        return f"{lines // 1_000}k"
    return str(lines)


@dataclass(frozen=True)
class Dataset:
    lines: int
    raw_dir: Path
    counts: dict[str, int]
    bytes_on_disk: int
    generated_seconds: float | None  # None when taken from the cache

    @property
    def label(self) -> str:
        return scale_label(self.lines)


def generator_fingerprint() -> str:
    """Hash of the generator's code: a changed generator means the cached data set is stale."""
    digest = hashlib.sha256()
    for path in sorted(GENERATOR_DIR.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _spec(lines: int) -> dict[str, object]:
    return {
        "invoice_lines": lines,
        "seed": SEED,
        "format": "csv",
        "months": 36,
        "generator": generator_fingerprint(),
    }


def ensure_dataset(lines: int, cache_dir: Path = CACHE_DIR, log=print) -> Dataset:
    """The data set for `lines` invoice lines, generated unless a complete one is cached."""
    folder = cache_dir / str(lines)
    raw, marker = folder / "raw", folder / MARKER
    spec = _spec(lines)
    if marker.exists():
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        if recorded.get("spec") == spec and raw.is_dir():
            return Dataset(lines, raw, recorded["counts"], _size(raw), None)
    log(f"generating {scale_label(lines)} invoice lines into {raw} (once; cached for later runs)")
    marker.unlink(missing_ok=True)
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    from orchestration.demo_data import generate

    started = time.perf_counter()
    counts = generate(raw, invoice_lines=lines, seed=SEED, fmt="csv", months=36)
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps({"spec": spec, "counts": counts}, indent=2), encoding="utf-8")
    return Dataset(lines, raw, counts, _size(raw), seconds)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
