"""Where GX runs during a refresh: a helper process, started before anything else.

Importing GX costs about 3 s of CPU. In a background thread of the refresh process it holds
the GIL against Dagster's own start-up and the ingest: loading the definitions took 19-43 s
instead of 7-12 s on the (busy) 2-core machine while a thread imported GX. In its own process
the import runs on the other core. The refresh starts the helper first thing (`start`), the
check steps hand their work to it (`call`) and wait for the result (one summary per suite).
The helper serves later refreshes of the same process (tests) and ends with it (it is a
daemon process, and it also ends by itself when its parent is gone).

Outside a refresh (`dagster dev`, tests calling the checks directly) `call` runs the work in
the calling process.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from orchestration.settings import Settings

T = TypeVar("T")
_LOCK = threading.Lock()
_HELPER: _Helper | None = None


class HelperError(RuntimeError):
    """The helper process is gone (killed, out of memory) or could not send a result."""


class _Helper:
    def __init__(self, warm_up: Callable[[], Any]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve, args=(child, os.getpid(), warm_up), name="gx-helper", daemon=True
        )
        self.process.start()
        child.close()
        # Before multiprocessing's own exit handler (atexit runs last-registered first), which
        # would terminate the helper with SIGTERM: a helper killed that way leaves its
        # semaphores (GX's progress-bar lock) registered, and Python warns about them at exit.
        atexit.register(self.stop)

    def stop(self) -> None:
        """Close the pipe: the helper sees the end of its work and exits normally."""
        self.conn.close()
        self.process.join(timeout=5)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            self.conn.send((fn, args))
            ok, value = self.conn.recv()
        except (EOFError, OSError) as e:
            raise HelperError(f"the GX helper process ended ({self.process.exitcode})") from e
        if ok:
            return value
        raise value


def start(warm_up: Callable[[], Any]) -> None:
    """Start the helper (once per process); it calls `warm_up` first (a picklable callable that
    imports GX and builds its context, e.g. `partial(gx.context, docs_dir)`)."""
    global _HELPER
    with _LOCK:
        if _HELPER is None or not _HELPER.process.is_alive():
            _HELPER = _Helper(warm_up)


def active() -> bool:
    return _HELPER is not None


def call(fn: Callable[..., T], settings: Settings, *args: Any) -> T:
    """fn(settings, *args) in the helper if one was started, else here."""
    with _LOCK:
        helper = _HELPER
        if helper is None:
            return fn(settings, *args)
        return helper.call(fn, settings, *args)


def _serve(conn, parent: int, warm_up: Callable[[], Any]) -> None:
    """The helper: import GX, then run what the refresh sends until it closes the pipe."""
    threading.Thread(target=_follow, args=(parent,), name="follow-parent", daemon=True).start()
    with contextlib.suppress(Exception):  # validation builds the context again and raises then
        warm_up()
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = (True, fn(*args))
        except BaseException as e:  # every failure goes back to the caller
            e.add_note("in the GX helper process:\n" + traceback.format_exc())
            reply = (False, e)
        try:
            conn.send(reply)
        except Exception as e:  # e.g. an exception that cannot be pickled
            conn.send((False, HelperError(f"{reply[1]!r} (not sendable: {e})")))


def _follow(parent: int) -> None:
    """End the helper when the refresh process is gone (killed, or ended without its exit
    handlers), instead of waiting forever for work."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)
