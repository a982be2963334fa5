"""Where GX runs during a refresh: a helper process, started before anything else.

Importing GX costs about 3 s of CPU. In a background thread of the refresh process it holds
the GIL against Dagster's own start-up and the ingest: loading the definitions took 19-43 s
instead of 7-12 s on the (busy) 2-core machine while a thread imported GX. In its own process
the import runs on the other core. The refresh starts the helper first thing (`start`), the
check steps hand their work to it (`call`) and wait for the result (one summary per suite),
and the helper stays for later refreshes of the same process (tests) until it exits.

Outside a refresh (`dagster dev`, tests calling the checks directly) `call` runs the work in
the calling process.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from orchestration.settings import Settings

T = TypeVar("T")
_LOCK = threading.Lock()
_POOL: ProcessPoolExecutor | None = None


def start(settings: Settings) -> None:
    """Start the helper (once per process) and have it import GX and build the context."""
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_follow_parent,
                initargs=(os.getpid(),),
            )
            atexit.register(stop)  # runs before multiprocessing's own exit handler joins it
        pool = _POOL
    pool.submit(_warm_up, str(settings.data_docs_dir))


def active() -> bool:
    return _POOL is not None


def call(fn: Callable[..., T], settings: Settings, *args: Any) -> T:
    """fn(settings, *args) in the helper if one was started, else here."""
    pool = _POOL
    if pool is None:
        return fn(settings, *args)
    return pool.submit(fn, settings, *args).result()


def stop() -> None:
    """End the helper at once: it holds nothing to clean up (each call closes its DuckDB
    connection, Data Docs are written), and tearing GX down in order would take a second or
    two that `kam refresh` would wait for at exit."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is None:
        return
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _follow_parent(parent: int) -> None:
    """In the helper: end when the refresh process is gone (killed, or ended without its exit
    handlers), instead of waiting forever for work."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _warm_up(docs_dir: str) -> None:
    from orchestration.checks.gx_suites import context

    context(docs_dir)
