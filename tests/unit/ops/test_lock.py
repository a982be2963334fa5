"""One refresh at a time: the warehouse lock, held by a run from resource setup to teardown."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from dagster import DagsterInstance, asset, materialize
from dagster._core.storage.tags import MAX_RETRIES_TAG

from orchestration.defs.resources import WarehouseResource
from orchestration.ops.lock import (
    LOCK_NAME,
    RefreshLock,
    RefreshLockedError,
    db_opened_by,
    holder,
    is_locked,
    wait_for_leftovers,
)
from orchestration.publish.folders import staging_folder

HOLD = """
import fcntl, json, os, sys, time
f = open(sys.argv[1], "a+")
fcntl.flock(f, fcntl.LOCK_EX)
f.seek(0); f.truncate()
f.write(json.dumps({"pid": os.getpid(), "host": os.uname().nodename,
    "started_at": "2025-01-01T02:00:00+00:00", "run_id": "abc", "started_by": "test"}))
f.flush()
print("locked", flush=True)
time.sleep(60)
"""


@pytest.fixture
def lock_path(settings):
    return settings.warehouse_dir / LOCK_NAME


def hold_in_other_process(path):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_acquirer_fails_at_once_naming_the_holder(lock_path):
    first = RefreshLock(lock_path)
    first.acquire("run-1", "kam refresh")
    started = time.monotonic()
    with pytest.raises(RefreshLockedError) as e:
        RefreshLock(lock_path).acquire("run-2", "schedule nightly_refresh")
    assert time.monotonic() - started < 1
    assert f"pid {os.getpid()}" in str(e.value)
    assert "by kam refresh, run run-1" in str(e.value)
    assert holder(lock_path)["run_id"] == "run-1"
    first.release()
    assert holder(lock_path) is None
    second = RefreshLock(lock_path)
    second.acquire("run-2", "dagster")
    second.release()


def test_lock_of_another_process_blocks_until_it_dies_then_never_again(lock_path):
    proc = hold_in_other_process(lock_path)
    try:
        with pytest.raises(
            RefreshLockedError, match=f"pid {proc.pid} on .*, started 2025-01-01T02:00:00"
        ):
            RefreshLock(lock_path).acquire(None, "kam refresh")
        assert holder(lock_path)["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup: its details stay in the file
        proc.wait()
    assert json.loads(lock_path.read_text())["pid"] == proc.pid
    assert holder(lock_path) is None  # a dead holder is not reported as refreshing
    lock = RefreshLock(lock_path)
    lock.acquire("run-3", "dagster")  # the kernel dropped the dead process's lock
    assert json.loads(lock_path.read_text())["run_id"] == "run-3"
    lock.release()


def test_is_locked_sees_the_lock_without_taking_it(lock_path):
    assert not is_locked(lock_path)  # no lock file yet
    proc = hold_in_other_process(lock_path)
    try:
        assert is_locked(lock_path)
        assert is_locked(lock_path)  # asking twice changed nothing
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert json.loads(lock_path.read_text())["pid"] == proc.pid  # its details are left
    assert not is_locked(lock_path)  # but nobody holds it


@asset
def touches_the_warehouse(warehouse: WarehouseResource) -> None:
    assert holder(warehouse.settings().warehouse_dir / LOCK_NAME)["pid"] == os.getpid()


def test_a_run_holds_the_lock_for_its_duration_and_releases_it(lock_path):
    result = materialize([touches_the_warehouse], resources={"warehouse": WarehouseResource()})
    assert result.success
    assert holder(lock_path) is None
    RefreshLock(lock_path).acquire("next", "dagster")  # free again


def test_a_run_first_removes_what_a_killed_publication_left(settings):
    published = settings.published_dir
    staging = staging_folder(published, "20260102T000000Z_b")
    staging.mkdir(parents=True)
    (published / "20260102T000000Z_b").symlink_to(staging.name, target_is_directory=True)

    result = materialize([touches_the_warehouse], resources={"warehouse": WarehouseResource()})

    assert result.success
    assert list(published.iterdir()) == []


def test_a_run_while_another_refresh_runs_fails_before_any_step_and_is_not_retried(lock_path):
    proc = hold_in_other_process(lock_path)
    instance = DagsterInstance.ephemeral()
    try:
        result = materialize(
            [touches_the_warehouse],
            resources={"warehouse": WarehouseResource()},
            instance=instance,
            raise_on_error=False,
        )
    finally:
        proc.kill()
        proc.wait()
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]
    error = result.get_run_failure_event().event_specific_data.error.cause
    assert error.cls_name == "RefreshLockedError"
    assert f"pid {proc.pid}" in error.message
    assert instance.get_run_by_id(result.run_id).tags[MAX_RETRIES_TAG] == "0"


OPEN_DB = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(float(sys.argv[2]))
"""


def open_db_in_other_process(db, seconds: float):
    proc = subprocess.Popen(
        [sys.executable, "-c", OPEN_DB, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "open"
    return proc


def test_waits_for_a_leftover_process_to_close_the_warehouse_db(settings):
    proc = open_db_in_other_process(settings.warehouse_db, 1.5)
    assert db_opened_by(settings.warehouse_db) == proc.pid
    said = []
    wait_for_leftovers(settings.warehouse_db, said.append, timeout=30)
    assert db_opened_by(settings.warehouse_db) is None
    assert said and f"pid {proc.pid}" in said[0]
    proc.wait()


def test_gives_up_on_a_db_that_stays_open_naming_the_process(settings):
    proc = open_db_in_other_process(settings.warehouse_db, 30)
    try:
        with pytest.raises(RefreshLockedError, match=f"still open in pid {proc.pid} \\(.*python"):
            wait_for_leftovers(settings.warehouse_db, lambda _: None, timeout=0.5)
    finally:
        proc.kill()
        proc.wait()


def test_this_process_own_connection_is_not_a_leftover(settings):
    import duckdb

    with duckdb.connect(str(settings.warehouse_db)):
        assert db_opened_by(settings.warehouse_db) is None
