"""Faults that are not bad input: a second refresh while one runs, and a validation suite that
the data fails. (SIGKILL at ingest, during dbt and during the publication: test_fail_fix_rerun.py
and test_kill_during_full_publish.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from orchestration.ops.lock import LOCK_NAME, is_locked
from orchestration.settings import PROJECT_ROOT
from tests.robustness.harness import KAM, build_baseline, copy_of, current, kam
from tests.robustness.test_stops import IGNORE, working_state


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    return build_baseline(tmp_path_factory.mktemp("faults"))


def test_a_second_refresh_while_one_runs_stops_at_once_and_the_first_publishes(baseline, tmp_path):
    data = copy_of(baseline, tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAM_", "DAGSTER_"))}
    first = subprocess.Popen(
        [str(KAM), "refresh", "--full"],
        env={**env, "KAM_DATA_DIR": str(data)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lock = data / "warehouse" / LOCK_NAME
    deadline = time.monotonic() + 300
    while not is_locked(lock):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0]
        time.sleep(0.05)

    second = kam(data, "refresh")
    output, _ = first.communicate(timeout=600)

    assert second.code == 1, second.output
    assert "another refresh is running on this warehouse" in second.output
    assert "published/current unchanged" in second.output
    assert first.returncode == 0, output[-3000:]
    assert current(data) != current(baseline)  # the first one published
    records = (data / "warehouse" / "logs" / "failures.jsonl").read_text().splitlines()
    assert "another refresh is running" in json.loads(records[-1])["error"]


def test_a_failing_validation_suite_blocks_the_publication_and_the_fixed_suite_heals(
    baseline, tmp_path
):
    root = tmp_path / "kam"
    shutil.copytree(PROJECT_ROOT, root, ignore=IGNORE)
    data = copy_of(baseline, tmp_path / "data")
    suite = root / "expectations" / "key_account_value.json"
    good = suite.read_text()
    suite.write_text(good.replace('"regex": "^[A-Z]{3}$"', '"regex": "^[A-Z]{4}$"'))
    assert suite.read_text() != good
    before = working_state(data)
    # a change of a suite is a change of code: the run rebuilds and validates everything
    failed = kam(data, "refresh", project=root)

    assert failed.code == 1, failed.output[-3000:]
    assert "key_account_value" in failed.output
    assert "expect_column_values_to_match_regex" in failed.output
    assert "published/current unchanged" in failed.output
    assert current(data) == current(baseline)
    assert tree_of(data, "published") == tree_of(baseline, "published")
    assert working_state(data) != before  # dbt ran: the failure is in validation, not before

    suite.write_text(good)
    healed = kam(data, "refresh", project=root)
    assert healed.code == 0, healed.output[-3000:]
    assert current(data) != current(baseline)


def tree_of(data: Path, folder: str) -> list[str]:
    return sorted(str(p.relative_to(data / folder)) for p in (data / folder).rglob("*"))
