"""Freshness of raw drops: newest file's age against the source's limit; warns, never blocks."""

import os
import time

from dagster import AssetCheckSeverity, AssetSelection, Definitions, define_asset_job

from orchestration.definitions import defs
from orchestration.defs.ingest import FRESHNESS_CHECK, ingest_assets, raw_files_freshness
from orchestration.defs.resources import WarehouseResource
from orchestration.ops.freshness import DAY, source_freshness
from orchestration.sources.contracts import load_contracts
from tests.conftest import RATES

NOW = 1_750_000_000.0


def dropped(path, days_ago: float, now: float = NOW):
    os.utime(path, (now - days_ago * DAY, now - days_ago * DAY))
    return path


def test_newest_file_decides_and_the_limit_is_inclusive(settings, write_raw):
    dropped(write_raw("exchange_rates", "2025-01.csv", RATES), 40)
    dropped(write_raw("exchange_rates", "2025-02.csv", RATES), 10)
    dropped(write_raw("exchange_rates", "notes.txt", "not a raw file"), 0)  # not a drop
    rates = load_contracts()["exchange_rates"]

    ok = source_freshness(settings.raw_dir, rates, 10, NOW)
    assert (ok.status, ok.files, ok.newest_file, ok.age_days) == (
        "OK",
        2,
        "exchange_rates/2025-02.csv",
        10.0,
    )
    assert ok.newest_mtime == "2025-06-05T15:06:40+00:00"  # NOW - 10 days
    stale = source_freshness(settings.raw_dir, rates, 9.5, NOW)
    assert (stale.status, stale.fresh) == ("STALE", False)
    off = source_freshness(settings.raw_dir, rates, None, NOW)
    assert (off.status, off.fresh, off.age_days) == ("OFF", True, 10.0)


def test_a_source_without_files_is_reported(settings):
    f = source_freshness(settings.raw_dir, load_contracts()["customers"], 35, NOW)
    assert (f.status, f.fresh, f.newest_file) == ("NO FILES", False, None)


def test_freshness_checks_are_non_blocking_warnings_on_every_ingest_asset():
    graph = defs.resolve_asset_graph()
    keys = {k.asset_key for k in graph.asset_check_keys if k.name == FRESHNESS_CHECK}
    assert keys == {a.key for a in ingest_assets}
    assert all(not spec.blocking for spec in raw_files_freshness.check_specs)


def test_a_stale_source_warns_and_the_run_still_succeeds(settings, write_raw):
    now = time.time()
    dropped(write_raw("exchange_rates", "rates.csv", RATES), 50, now)  # limit 35 days
    dropped(write_raw("invoice_lines", "2025-06.csv", "x"), 1, now)  # default limit 4 days
    job = define_asset_job("freshness_only", selection=AssetSelection.checks(raw_files_freshness))
    result = (
        Definitions(
            assets=ingest_assets,
            asset_checks=[raw_files_freshness],
            jobs=[job],
            resources={"warehouse": WarehouseResource()},
        )
        .resolve_job_def("freshness_only")
        .execute_in_process()
    )
    assert result.success  # a warning never fails the run
    checks = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == set(load_contracts())
    rates, invoices = checks["exchange_rates"], checks["invoice_lines"]
    assert (rates.passed, rates.severity) == (False, AssetCheckSeverity.WARN)
    assert rates.metadata["age_days"].value >= 50
    assert rates.metadata["max_age_days"].value == 35
    assert rates.metadata["newest_file"].value == "exchange_rates/rates.csv"
    assert "older than the limit of 35 days" in rates.description
    assert invoices.passed and invoices.metadata["status"].value == "OK"
    assert not checks["customers"].passed  # no file at all
