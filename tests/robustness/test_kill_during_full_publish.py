"""A refresh killed (SIGKILL) while publishing leaves nothing behind the next run, and two
refreshes of the same input publish the same tables, row by row.

One small generated data set, scored every month (so the second refresh reads decisions of
earlier scoring dates from the designation log that the first one took itself). The first
refresh publishes P1. A child `kam refresh --full` is then killed as soon as its publication in
the making appears (`.<name>.partial/` and the link `<name>`). The plain refresh after it
removes both and publishes P2, from scratch (the killed run had reset the working warehouse):
the same input as P1, so every published table must equal P1's.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.cli.runner import run_refresh
from orchestration.demo_data import generate
from orchestration.publish.compare import compare, tables
from orchestration.publish.folders import CURRENT, leftovers
from orchestration.settings import SCORING_CONFIG_FILE

KAM = "from orchestration.cli.main import run; run()"


def kill_when_publishing(data_dir: Path, timeout: float = 900) -> dict:
    """Run `kam refresh --full` in a child process; SIGKILL it (and its helpers) once its
    publication folder and the link standing for its final name exist."""
    published = data_dir / "published"
    log = (data_dir / "killed.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-c", KAM, "refresh", "--full"],
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the GX helper dies with it
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and child.poll() is None:
            found = leftovers(published)
            if any(p.is_symlink() for p in found) and any(p.is_dir() for p in found):
                os.killpg(child.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        if child.poll() is None and time.monotonic() >= deadline:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        log.close()
    return {"returncode": child.returncode, "output": (data_dir / "killed.log").read_text()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("kill_and_rerun")
    generate(data_dir / "raw", invoice_lines=1200, seed=7, fmt="csv", months=14)
    scoring = data_dir / "scoring.yml"
    scoring.write_text(
        SCORING_CONFIG_FILE.read_text().replace("frequency: year ", "frequency: month"),
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(data_dir))
        mp.setenv("KAM_SCORING_CONFIG", str(scoring))
        mp.delenv("DAGSTER_HOME", raising=False)
        first = run_refresh()
        assert first.success, first.error
        killed = kill_when_publishing(data_dir)
        left = {p.name: p.is_symlink() for p in leftovers(data_dir / "published")}
        current_after_kill = (data_dir / "published" / CURRENT).resolve()
        second = run_refresh()
        assert second.success, second.error
    return data_dir, first, killed, left, current_after_kill, second


def test_the_killed_refresh_left_its_publication_in_the_making_and_current_alone(runs):
    _, first, killed, left, current_after_kill, _ = runs
    assert killed["returncode"] == -signal.SIGKILL, killed["output"][-2000:]
    [name] = [n for n, is_link in left.items() if is_link]
    assert left == {name: True, f".{name}.partial": False}
    assert current_after_kill == first.current


def test_the_next_refresh_removed_the_leftovers_and_published(runs):
    data_dir, first, _, left, _, second = runs
    published = data_dir / "published"
    assert leftovers(published) == []
    assert sorted(p.name for p in published.iterdir()) == sorted(
        [first.current.name, second.current.name, CURRENT]
    )
    assert not set(left) & {p.name for p in published.iterdir()}


def test_two_refreshes_of_the_same_input_publish_the_same_tables_row_by_row(runs):
    _, first, _, _, _, second = runs
    assert first.current != second.current
    assert len(tables(first.current)) >= 15
    assert compare(first.current, second.current) == []
    # not vacuous: decisions on several scoring dates, a final period (its decisions taken by
    # the first run, read from the designation log by the second), the log holding them all
    with duckdb.connect() as con:
        periods, frozen = con.execute(
            "SELECT count(*), count(*) FILTER (is_frozen) "
            f"FROM '{second.current / 'key_account_designations.parquet'}'"
        ).fetchone()
        [(dates,)] = con.execute(
            "SELECT count(DISTINCT scoring_date) "
            f"FROM '{second.current.parent.parent / 'history' / 'designation_log.parquet'}'"
        ).fetchall()
    assert periods > 0 and frozen > 0 and dates >= 3, (periods, frozen, dates)
