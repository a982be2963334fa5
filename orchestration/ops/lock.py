"""One refresh at a time per warehouse: an exclusive flock on data/warehouse/.refresh.lock.

Dagster's run queue keeps the daemon's runs apart, but `kam refresh` runs on an instance of its
own (or none), so the warehouse itself is locked for the whole run, whoever started it. The
kernel drops a flock when its process ends, however it ends: the lock of a killed or crashed
refresh never blocks the next one. The file only says who holds it (pid, start, run id), for
the message a second refresh fails with. The one thing that can outlive a killed refresh is its
dbt process: the next refresh waits (bounded) until it has closed the warehouse database.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

LOCK_NAME = ".refresh.lock"
# A run worker killed mid-dbt leaves its dbt process running on its own for a while; the next
# refresh (its automatic retry) waits this long for it to close the warehouse database.
LEFTOVER_WAIT_SECONDS = 600.0


class RefreshLockedError(RuntimeError):
    """Another refresh holds the warehouse; the message names it."""


@dataclass
class RefreshLock:
    path: Path
    _file: IO[str] | None = None

    def acquire(self, run_id: str | None, started_by: str) -> None:
        """Take the lock or fail at once, naming the holder. Never waits."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = self.path.open("a+", encoding="utf-8")  # not inherited by dbt & co (O_CLOEXEC)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read()
            f.close()
            raise RefreshLockedError(locked_message(self.path, holder)) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "run_id": run_id,
            "started_by": started_by,
        }
        f.seek(0)
        f.truncate()
        f.write(json.dumps(holder) + "\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.truncate(0)  # nobody holds it now
        self._file.close()  # closing drops the flock
        self._file = None


def wait_for_leftovers(db: Path, log: Callable[[str], None], timeout: float | None = None) -> None:
    """Wait until no other process has the DuckDB file `db` open, or fail naming it.

    With the refresh lock held, another process holding `db` is a leftover of a killed refresh
    (its dbt child outlives it) or someone's open session on the working database.
    """
    timeout = LEFTOVER_WAIT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + timeout
    told = False
    while (pid := db_opened_by(db)) is not None:
        if time.monotonic() >= deadline:
            raise RefreshLockedError(
                f"{db} is still open in pid {pid} ({_command(pid)}) after {timeout:g} s: a "
                "leftover of a killed refresh, or a session on the working database; close it "
                "(BI tools read data/published, never data/warehouse)"
            )
        if not told:
            log(f"waiting up to {timeout:g} s for pid {pid} ({_command(pid)}) to close {db}")
            told = True
        time.sleep(1.0)


def db_opened_by(db: Path) -> int | None:
    """The pid of another process holding a lock on `db` (DuckDB locks its open files), or None.

    Not on Linux: None (no check).
    """
    return next((pid for pid in _lock_holders(db) or [] if pid != os.getpid()), None)


def is_locked(path: Path) -> bool:
    """Whether any process holds the refresh lock `path` now, asked without taking it (even a
    moment's lock here could turn away a refresh starting then). Not on Linux: whether a live
    holder has written its details."""
    pids = _lock_holders(path)
    return bool(pids) if pids is not None else holder(path) is not None


def _lock_holders(path: Path) -> list[int] | None:
    """Pids holding a lock (flock or POSIX) on `path`; None when /proc/locks is not readable.

    Read from /proc/locks rather than asked with F_GETLK: opening and closing the file here
    would drop every POSIX lock this process holds on it.
    """
    try:
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    try:
        st = path.stat()
    except OSError:
        return []
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    return [
        int(fields[4])
        for fields in map(str.split, table.splitlines())
        if len(fields) >= 6 and fields[1] != "->" and fields[5] == device
    ]


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "command unknown"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:120]


def locked_message(path: Path, holder_text: str) -> str:
    try:
        h = json.loads(holder_text)
        who = f"pid {h['pid']} on {h['host']}, started {h['started_at']} by {h['started_by']}" + (
            f", run {h['run_id']}" if h.get("run_id") else ""
        )
    except (ValueError, KeyError, TypeError):
        who = "a process that has not written its details yet"
    return (
        f"another refresh is running on this warehouse ({who}; lock file {path}). "
        "Wait for it to finish: two refreshes must never write the warehouse at once."
    )


def holder(path: Path) -> dict | None:
    """Who is refreshing right now, or None (for `kam status`).

    Reads the holder's details without touching the lock itself: even a brief shared lock
    here could make a refresh starting at that moment fail. A release empties the file; left
    details of a process that is gone (killed) are ignored.
    """
    try:
        h = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(h, dict) or h.get("host") != socket.gethostname():
        return h if isinstance(h, dict) else None
    try:
        os.kill(int(h["pid"]), 0)
    except ProcessLookupError:
        return None
    except (PermissionError, KeyError, ValueError, TypeError):
        pass
    return h
