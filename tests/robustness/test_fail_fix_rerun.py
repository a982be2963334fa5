"""A refresh that fails heals: once the cause is gone, the next plain refresh succeeds and
publishes what a full rebuild of the same files publishes.

One baseline (generated data, refreshed once) is shared by every case; each case copies it,
adds the same daily drop of invoice lines, fails a refresh in its own way (a bad raw file, a
bad configuration, a configuration change that is then reverted, a SIGKILL at ingest, during
dbt and during the publication), removes the cause and runs a plain refresh. Every case ends
with the same files and configuration, so one full rebuild is the reference for all of them
(compared as scripts/compare_publications.py does, `decided_at` aside: the time of a decision).

Every healing run is also a publishing run whose events must hold an evaluation of every
blocking check (dbt tests, GX suites, ingest and cost checks): none may be skipped silently.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from dagster import DagsterInstance

from orchestration.cli.runner import RefreshOutcome, run_refresh
from orchestration.demo_data import generate
from orchestration.settings import PROJECT_ROOT
from tests.integration.blocking_checks import assert_every_blocking_check_evaluated

HEADER = (
    "invoice_number;line_number;invoice_date;customer_id;product_id;quantity;unit_price;currency;"
    "document_type;standard_cost_per_unit;due_date;payment_date\n"
)
DROP = "invoice_lines/2024-01-20.csv"
# The daily drop; the bad version is the same rows under a header that names a column wrongly.
GOOD = (
    "R2024900001;1;20.01.2024;{c};P0001;10,000;68,66;CHF;invoice;39,56;19.03.2024;\n"
    "R2024900001;2;20.01.2024;{c};P0002;20,000;8,96;CHF;invoice;6,73;19.03.2024;\n"
)
BAD_HEADER = HEADER.replace(";quantity;", ";menge;")
IGNORE = {"key_account_designations": {"decided_at"}}  # when the decision was taken


def _compare() -> Callable[..., list[str]]:
    spec = importlib.util.spec_from_file_location(
        "compare_publications", PROJECT_ROOT / "scripts" / "compare_publications.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compare


compare = _compare()


def write_drop(data: Path, text: str, header: str = HEADER) -> None:
    customer = (data / "raw" / "customers" / "customers.csv").read_text(encoding="cp1252")
    first = customer.splitlines()[1].split(";")[0]
    (data / "raw" / DROP).write_text(header + text.format(c=first), encoding="utf-8")


def refresh(data: Path, full: bool = False, **env: str) -> tuple[RefreshOutcome, DagsterInstance]:
    """A plain refresh in this process; returns its outcome and the instance that ran it."""
    instance = DagsterInstance.ephemeral()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(data))
        for name, value in env.items():
            mp.setenv(name, value)
        outcome = run_refresh(instance=instance, full=full)
    return outcome, instance


def state(data: Path, name: str) -> Path:
    return data / "warehouse" / "state" / name


def built(data: Path) -> dict:
    return json.loads(state(data, "built.json").read_text())


def current(data: Path) -> Path:
    return (data / "published" / "current").resolve()


def unchanged(data: Path, baseline) -> bool:
    """`current` still names the baseline's publication (the case is a copy of it)."""
    return current(data).name == current(baseline[0]).name


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, Path]:
    """A warehouse refreshed once (13 months of history), and the reference: the same files plus
    the daily drop, rebuilt with `kam refresh --full`."""
    root = tmp_path_factory.mktemp("healing")
    data = root / "baseline"
    generate(data / "raw", invoice_lines=600, seed=7, fmt="csv", months=13)
    outcome, _ = refresh(data)
    assert outcome.success, outcome.error
    reference = root / "reference"
    shutil.copytree(data, reference, symlinks=True)
    write_drop(reference, GOOD)
    outcome, _ = refresh(reference, full=True)
    assert outcome.success, outcome.error
    return data, reference


@pytest.fixture
def case(baseline, tmp_path) -> Path:
    data = tmp_path / "case"
    shutil.copytree(baseline[0], data, symlinks=True)
    return data


def assert_heals(data: Path, baseline) -> tuple[dict, dict]:
    """The plain refresh after the cause is gone: succeeds, every blocking check evaluated,
    and the publication equals the full rebuild of the same files."""
    outcome, instance = refresh(data)
    assert outcome.success, outcome.error
    checks = assert_every_blocking_check_evaluated(instance, outcome.run_id)
    assert compare(current(data), current(baseline[1]), IGNORE) == []
    return built(data), checks


def test_bad_raw_file_fails_then_the_fixed_file_heals(case, baseline):
    write_drop(case, GOOD, header=BAD_HEADER)
    failed, _ = refresh(case)
    assert not failed.success
    assert f"{DROP}: missing column(s) quantity" in failed.error
    assert unchanged(case, baseline)

    write_drop(case, GOOD)
    healed, _ = assert_heals(case, baseline)
    assert healed["scope"]["full"] is False  # healed without a full rebuild


def test_bad_config_fails_then_the_fixed_config_heals(case, baseline, tmp_path):
    write_drop(case, GOOD)
    scoring = tmp_path / "scoring.yml"
    text = (PROJECT_ROOT / "config" / "scoring.yml").read_text()
    scoring.write_text(text.replace("weight: 0.25", "weight: 0.35", 1))  # sum 1.1
    failed, _ = refresh(case, KAM_SCORING_CONFIG=str(scoring))
    assert not failed.success
    assert "weights sum to" in failed.error
    assert failed.step_seconds == {}  # the configuration check stopped it before any step
    assert unchanged(case, baseline)

    assert_heals(case, baseline)


def test_config_error_found_during_ingest_heals(case, baseline):
    """A reporting currency that no rate converts into is found by the exchange-rate ingest,
    after the run started (the scope had taken the new drop in)."""
    write_drop(case, GOOD)
    failed, _ = refresh(case, KAM_REPORTING_CURRENCY="JPY")
    assert not failed.success
    assert "no exchange rates into JPY" in failed.error
    assert unchanged(case, baseline)

    assert_heals(case, baseline)


def test_reverted_config_change_heals_with_a_full_rebuild(case, baseline, tmp_path):
    """A catalogue with a gap fails a blocking check after dbt rebuilt every month with it;
    reverted, its fingerprint equals the last build's, but the working database holds the
    gap: the next run must rebuild everything again, and says why."""
    write_drop(case, GOOD)
    rates = tmp_path / "activity_rates.csv"
    text = (PROJECT_ROOT / "config" / "activity_rates.csv").read_text()
    rates.write_text(
        text.replace(
            "orders,12.50,CHF,2020-01-01,2024-06-30", "orders,12.50,CHF,2020-01-01,2023-05-31"
        )
    )
    failed, _ = refresh(case, KAM_ACTIVITY_RATES_FILE=str(rates))
    assert not failed.success
    assert "cost_lines:driver_volumes_priced failed" in failed.error
    assert unchanged(case, baseline)

    healed, _ = assert_heals(case, baseline)
    assert healed["scope"]["full"] is True
    assert any("did not publish" in r for r in healed["reasons"])


def kill_refresh(data: Path, when: Callable[[list[str]], bool], timeout: float = 600) -> str:
    """Start `kam refresh` and SIGKILL it (and its dbt child) as soon as `when(lines)` holds."""
    env = {**os.environ, "KAM_DATA_DIR": str(data)}
    kam = Path(sys.executable).parent / "kam"
    proc = subprocess.Popen(
        [str(kam), "refresh"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while not when(lines):
            assert proc.poll() is None, "the refresh ended before it could be killed:\n" + "".join(
                lines
            )
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return "".join(lines)


def test_sigkill_at_ingest_heals(case, baseline):
    write_drop(case, GOOD)
    pending = state(case, "pending/invoice_lines.json")
    kill_refresh(case, lambda _: pending.exists())  # outputs being replaced, ledger not saved
    assert not state(case, "scope_taken.json").exists()
    assert unchanged(case, baseline)

    # The healing run is an ordinary nightly one: dbt leaves alone what the drop cannot reach,
    # their tests report the result their last publication was gated on; a reconciliation
    # reading a rebuilt and an unchanged model runs.
    healed, checks = assert_heals(case, baseline)
    carried = {k for k, v in checks.items() if "rebuilt" in v.metadata}
    assert carried and "stg_erp__customers:unique_stg_erp__customers_customer_id" in carried
    assert "cost_to_serve:assert_cost_lines_reconcile" not in carried
    assert healed["scope"]["full"] is False


def test_sigkill_during_dbt_heals(case, baseline):
    write_drop(case, GOOD)
    wal = case / "warehouse" / "kam.duckdb.wal"
    started: list[float] = []

    def dbt_wrote(lines: list[str]) -> bool:
        if not started and any("Running dbt command" in ln for ln in lines):
            started.append(time.monotonic())
        return bool(started) and (wal.exists() or time.monotonic() - started[0] > 20)

    kill_refresh(case, dbt_wrote)
    assert state(case, "dbt_unpublished.json").exists()
    assert unchanged(case, baseline)

    assert_heals(case, baseline)


def test_sigkill_during_publication_heals(case, baseline):
    write_drop(case, GOOD)
    published = case / "published"
    kill_refresh(case, lambda _: any(p.name.endswith(".partial") for p in published.iterdir()))
    assert state(case, "scope_taken.json").exists()
    assert unchanged(case, baseline)

    assert_heals(case, baseline)
    assert not [p.name for p in published.iterdir() if p.name.startswith(".")]  # cleaned up
