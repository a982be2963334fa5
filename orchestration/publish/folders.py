"""The publication folders under data/published/: which exist, which is `current`, the atomic
switch, rollback and pruning, and the manifest each one carries.

`current` is a symlink to one publication folder; it is replaced by a new symlink in one
rename(2), so a reader sees the old publication or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from orchestration.settings import Settings
from orchestration.state import last_publication_file, write_text_atomic

CURRENT = "current"
MANIFEST = "manifest.json"
PARTIAL = ".partial"  # a publication is built in `.<name>.partial/`, then renamed to `<name>`


class PublishError(RuntimeError):
    """Publishing (or a rollback) cannot go ahead; the message says why."""


def read_manifest(publication: Path) -> dict | None:
    try:
        return json.loads((publication / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def last_publication(settings: Settings) -> Path | None:
    """The last publication this pipeline wrote (what `current` was before any rollback), if
    it is still complete on disk: the base that unchanged months are carried over from."""
    state = last_publication_file(settings)
    try:
        name = state.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    path = settings.published_dir / name
    if not name or "/" in name or path.is_symlink() or read_manifest(path) is None:
        return None
    return path


def record_last_publication(settings: Settings, name: str) -> None:
    write_text_atomic(last_publication_file(settings), name + "\n")


def parquet_files(publication: Path, table: str) -> str:
    """What to give read_parquet for `table` of a publication folder: `<table>.parquet`, or
    the glob over its month files `<table>/*.parquet` for a month-partitioned mart."""
    folder = publication / table
    return str(folder / "*.parquet") if folder.is_dir() else str(publication / f"{table}.parquet")


# --- current, rollback, pruning --------------------------------------------------------------


def staging_folder(published_dir: Path, name: str) -> Path:
    """Where publication `name` is built, hidden from readers until it is complete."""
    return published_dir / f".{name}{PARTIAL}"


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
    """Complete publications (a folder with its manifest), oldest first (names sort by time)."""
    if not published_dir.exists():
        return []
    return sorted(
        p
        for p in published_dir.iterdir()
        if p.is_dir()
        and not p.is_symlink()
        and not p.name.startswith(".")
        and (p / MANIFEST).is_file()
    )


def rollback(published_dir: Path, to: str | None = None) -> tuple[Path | None, Path]:
    """Point `current` at the publication before it, or at the one named `to`.

    Returns (from, to). Only the `current` link changes: the working warehouse, the designation
    log and the record of the last publication written stay as they are.
    """
    complete = publications(published_dir)
    current = current_publication(published_dir)
    if to is not None:
        target = next((p for p in complete if p.name == to), None)
        if target is None:
            names = ", ".join(p.name for p in complete) or "none"
            raise PublishError(f"no complete publication named {to!r}; available: {names}")
    else:
        if current is None:
            raise PublishError(f"nothing is published in {published_dir} yet")
        older = [p for p in complete if p.name < current.name]
        if not older:
            raise PublishError(f"no complete publication before {current.name} to roll back to")
        target = older[-1]
    switch_current(published_dir, target.name)
    return current, target


def prune(published_dir: Path, keep: int, also_keep: Path | None = None) -> None:
    """Delete all but the newest `keep` publications; never `current` nor `also_keep`.

    Month files shared by hard links stay on disk as long as a kept publication links them.
    """
    current = current_publication(published_dir)
    for old in publications(published_dir)[:-keep]:
        if old not in (current, also_keep):
            shutil.rmtree(old, ignore_errors=True)


# --- leftovers of a killed publication -------------------------------------------------------


def leftovers(published_dir: Path) -> list[Path]:
    """What a publication killed midway (SIGKILL, power loss) leaves in `published_dir`: its
    staging folder `.<name>.partial/`, the link `<name> -> .<name>.partial` that stands for the
    final name while it is built, a `.current.<pid>.tmp` link of an unfinished switch.

    A refresh that is publishing right now has the same files: remove them only under the
    warehouse lock, or after seeing it free (ops/lock.py).
    """
    if not published_dir.is_dir():
        return []
    return [path for path in sorted(published_dir.iterdir()) if _is_leftover(path)]


def _is_leftover(path: Path) -> bool:
    name = path.name
    if path.is_symlink():
        unfinished_switch = name.startswith(f".{CURRENT}.") and name.endswith(".tmp")
        return unfinished_switch or os.readlink(path) == staging_folder(path.parent, name).name
    return name.startswith(".") and name.endswith(PARTIAL) and path.is_dir()


def remove_leftovers(paths: list[Path]) -> list[Path]:
    """Delete leftovers found by `leftovers` (links first); returns what was removed. A path
    that has become something else meanwhile (a link renamed into a folder) is left alone."""
    removed = []
    for path in sorted(paths, key=lambda p: not p.is_symlink()):
        if path.is_symlink():
            path.unlink(missing_ok=True)
        elif path.name.startswith(".") and path.name.endswith(PARTIAL) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            continue
        removed.append(path)
    return removed
