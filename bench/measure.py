"""Run a command as a child process and measure its wall time and peak resident memory.

Memory is measured two ways, because a process tree has no single exact "peak RSS":

- `peak_tree_rss`: the largest sum of RSS over the child and all its descendants, sampled
  every `interval` seconds with psutil (what the machine must hold at once, e.g. `kam refresh`
  plus its dbt subprocess). Sampling can miss a spike shorter than the interval; shared pages
  (libraries mapped by two processes) are counted once per process, so it errs high on those.
- `peak_process_rss`: the kernel's own high-water mark (VmHWM in /proc/<pid>/status, kept by
  the kernel since the process's exec) of the largest single process in the tree, as last read
  while the process ran: a growth in its final sampling interval can be missed, but short spikes
  in between cannot. (wait4's ru_maxrss is not used: at exec the kernel folds the spawning
  process's own high-water mark into the child's, so every child would look at least as big as
  the harness that started it.)
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 1024 * 1024
TIMELINE_STEP = 0.5  # seconds between two points of Measurement.timeline


@dataclass(frozen=True)
class Measurement:
    wall_seconds: float
    peak_tree_rss: int  # bytes, sampled sum over the process tree
    peak_process_rss: int  # bytes, kernel high-water mark of the largest single process
    peak_processes: int  # most processes alive in the tree at one sample
    samples: int
    cpu_seconds: float  # user + system time of the child and every descendant it waited for
    # peak sampled RSS per process of the tree, by a short label ("kam refresh", "dbt build")
    peak_by_process: dict[str, int]  # kernel high-water mark per process, by label
    started_at: float  # time.time() when the child was spawned
    peak_at: float  # seconds after the spawn when the sampled tree peak was seen
    # (seconds after spawn, {label: RSS bytes}) every ~0.5 s, for a memory-over-time view
    timeline: list[tuple[float, dict[str, int]]]
    returncode: int
    stdout: str
    stderr: str

    @property
    def peak_tree_mb(self) -> float:
        return self.peak_tree_rss / MB

    @property
    def peak_process_mb(self) -> float:
        return self.peak_process_rss / MB


def _by_label(by_pid: dict[int, int], labels: dict[int, str], combine=max) -> dict[str, int]:
    out: dict[str, int] = {}
    for pid, rss in by_pid.items():
        label = labels.get(pid, "?")
        out[label] = combine(out[label], rss) if label in out else rss
    return out


class CommandFailed(RuntimeError):
    """The measured command exited non-zero; the message carries the tail of its stderr."""


def _tree_rss(root: psutil.Process, labels: dict[int, str], hwm: dict[int, int]) -> dict[int, int]:
    """RSS of every live process in the tree, by pid; updates labels and high-water marks."""
    out: dict[int, int] = {}
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return out
    for p in procs:
        try:
            out[p.pid] = p.memory_info().rss
            if p.pid not in labels:
                labels[p.pid] = _label(p)
        except psutil.Error:  # exited between listing and reading
            continue
        hwm[p.pid] = max(hwm.get(p.pid, 0), _vm_hwm(p.pid), out[p.pid])
    return out


def _vm_hwm(pid: int) -> int:
    """The kernel's peak resident set size of the process (VmHWM), in bytes; 0 if gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _label(p: psutil.Process) -> str:
    """'kam refresh', 'dbt build', 'python -m bench.pandas_baseline', ... for the report."""
    try:
        args = p.cmdline()
    except psutil.Error:
        return "?"
    if any("multiprocessing" in a for a in args):
        return "multiprocessing helper"
    words = [Path(a).name for a in args[:4] if not a.startswith("--")]
    if words and words[0].startswith("python"):
        words = words[1:]
    return " ".join(words[:2]) or p.name()


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.02,
    stdout_path: Path | None = None,
    stderr_path: Path | None = None,
    check: bool = True,
) -> Measurement:
    """Run `cmd` to completion; stdout/stderr go to files (default: temporary) and come back."""
    out_path = stdout_path or Path(os.devnull)
    err_path = stderr_path or Path(os.devnull)
    capture = stdout_path is not None or stderr_path is not None
    started = time.perf_counter()
    started_at = time.time()
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        root = psutil.Process(proc.pid)
        peak, peak_n, samples = 0, 0, 0
        labels: dict[int, str] = {}
        by_pid: dict[int, int] = {}
        hwm: dict[int, int] = {}
        timeline: list[tuple[float, dict[str, int]]] = []
        peak_at, next_point = 0.0, 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            now = time.perf_counter() - started
            rss = _tree_rss(root, labels, hwm)
            for p, r in rss.items():
                by_pid[p] = max(by_pid.get(p, 0), r)
            if sum(rss.values()) > peak:
                peak, peak_at = sum(rss.values()), now
            peak_n = max(peak_n, len(rss))
            if now >= next_point:
                timeline.append((round(now, 2), _by_label(rss, labels, combine=int.__add__)))
                next_point = now + TIMELINE_STEP
            samples += 1
            time.sleep(interval)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace") if capture and stdout_path else ""
    stderr = err_path.read_text(errors="replace") if capture and stderr_path else ""
    m = Measurement(
        wall_seconds=wall,
        peak_tree_rss=peak,
        peak_process_rss=max(hwm.values(), default=0),
        peak_processes=peak_n,
        samples=samples,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_by_process=_by_label(hwm, labels),
        started_at=started_at,
        peak_at=peak_at,
        timeline=timeline,
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
    )
    if check and m.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-25:])
        raise CommandFailed(f"{' '.join(cmd)} exited with {m.returncode}:\n{tail}")
    return m
