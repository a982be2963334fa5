"""`kam status`: publication, current pointer, last failure, row counts, freshness."""

import json

from click.testing import CliRunner

from orchestration.cli.main import main
from orchestration.ops.failures import report_failure
from orchestration.publish.folders import switch_current
from orchestration.settings import AlertsConfig
from tests.conftest import RATES


def publish_by_hand(settings, name: str, published_at: str, rows: int) -> None:
    folder = settings.published_dir / name
    folder.mkdir(parents=True)
    manifest = {
        "publication": name,
        "run_id": f"{name[-8:]}-0000",
        "published_at": published_at,
        "tables": {"key_account_value": rows, "cost_to_serve": 2 * rows},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    switch_current(settings.published_dir, name)


def status(*args: str):
    result = CliRunner().invoke(main, ["status", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_nothing_published_yet_is_said_plainly(settings, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    out = status()
    assert "nothing was ever published" in out
    assert "last failure  none recorded" in out
    assert "schedule      running: '0 2 * * *' Europe/Zurich, next " in out
    data = json.loads(status("--json"))
    assert data["last_publication"] is None and data["current"] is None
    assert data["schedule"]["next_run"].endswith(("T02:00:00+01:00", "T02:00:00+02:00"))


def test_rolled_back_current_failure_and_row_counts(settings, write_raw):
    publish_by_hand(settings, "20250601T020000000000Z_aaaaaaaa", "2025-06-01T02:05:00+00:00", 10)
    publish_by_hand(settings, "20250602T020000000000Z_bbbbbbbb", "2025-06-02T02:05:00+00:00", 1234)
    switch_current(settings.published_dir, "20250601T020000000000Z_aaaaaaaa")  # rollback
    report_failure(
        settings,
        {
            "time": "2025-06-03T02:01:00+00:00",
            "run_id": "cccccccc-1111",
            "job": "kam_refresh",
            "failed_steps": ["erp__invoice_lines"],
            "failed_checks": [],
            "error": "step erp__invoice_lines: IngestError: x.csv: wrong columns\nmore detail",
        },
        AlertsConfig(),
    )
    write_raw("exchange_rates", "rates.csv", RATES)

    out = status()
    assert "publication   20250602T020000000000Z_bbbbbbbb" in out
    assert "current       -> 20250601T020000000000Z_aaaaaaaa  NOT the newest" in out
    assert "after the last publication)  run cccccccc" in out
    assert "  step erp__invoice_lines: IngestError: x.csv: wrong columns\n" in out
    assert "more detail" not in out  # the first line only
    assert "key_account_value 10" in out  # rows of current, not of the newest
    assert "exchange_rates" in out and "NO FILES" in out

    data = json.loads(status("--json"))
    assert data["current_is_newest"] is False
    assert data["current"]["tables"] == {"key_account_value": 10, "cost_to_serve": 20}
    assert data["last_publication"]["tables"]["key_account_value"] == 1234
    assert data["last_failure"]["run_id"] == "cccccccc-1111"
    fresh = {f["source"]: f for f in data["freshness"]}
    assert (
        fresh["exchange_rates"]["status"] == "OK" and fresh["exchange_rates"]["max_age_days"] == 35
    )
    assert fresh["customers"]["status"] == "NO FILES"


def test_current_is_the_newest_after_a_normal_night(settings):
    publish_by_hand(settings, "20250601T020000000000Z_aaaaaaaa", "2025-06-01T02:05:00+00:00", 10)
    assert "current       -> the newest publication" in status()


def test_status_shows_the_last_scope_and_what_is_pending(settings, monkeypatch):
    from datetime import date

    from orchestration.scope.pending import Footprint, add_pending

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert "last build    none: the next refresh rebuilds every month" in status()
    built = {
        "scope": {"full": False, "months": ["2025-11-01", "2025-12-01"]},
        "as_of": "2025-12-31",
    }
    (settings.state_dir).mkdir(parents=True, exist_ok=True)
    (settings.state_dir / "built.json").write_text(json.dumps(built))
    add_pending(
        settings, "invoice_lines", Footprint(months={date(2025, 3, 1)}, open_from=date(2025, 12, 1))
    )
    out = status()
    assert "last build    2 month(s): 2025-11, 2025-12; as-of 2025-12-31" in out
    assert "pending       2025-03, 2025-12..latest (recomputed by the next run)" in out
    assert json.loads(status("--json"))["incremental"]["pending"]["months"] == ["2025-03-01"]


def test_leftovers_of_a_killed_publication_are_reported_and_removed_unless_a_refresh_runs(
    settings,
):
    from orchestration.ops.lock import LOCK_NAME, RefreshLock
    from orchestration.publish.folders import staging_folder

    publish_by_hand(settings, "20250601T020000000000Z_aaaaaaaa", "2025-06-01T02:05:00+00:00", 10)
    killed = "20250602T020000000000Z_bbbbbbbb"
    staging = staging_folder(settings.published_dir, killed)
    staging.mkdir()
    (settings.published_dir / killed).symlink_to(staging.name, target_is_directory=True)

    lock = RefreshLock(settings.warehouse_dir / LOCK_NAME)
    lock.acquire("run-1", "kam refresh")
    try:  # a refresh is running: these may be its publication in the making
        out = status()
    finally:
        lock.release()
    assert f"publishing    now: .{killed}.partial/, {killed} -> .{killed}.partial" in out
    assert staging.is_dir()

    out = status()
    assert f"leftovers     removed, of a killed publication: .{killed}.partial/, {killed}" in out
    assert sorted(p.name for p in settings.published_dir.iterdir()) == [
        "20250601T020000000000Z_aaaaaaaa",
        "current",
    ]
    assert json.loads(status("--json"))["leftovers"] is None


def test_a_configuration_problem_is_shown_and_status_still_exits_0(settings, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    publish_by_hand(settings, "20250601T020000000000Z_aaaaaaaa", "2025-06-01T02:05:00+00:00", 10)
    monkeypatch.setenv("KAM_DUCKDB_THREADS", "zwei")

    out = status()  # exit code 0, asserted there

    assert out.splitlines()[1].startswith(
        "config        INVALID: KAM_DUCKDB_THREADS='zwei' (overrides "
    )
    assert "current       -> the newest publication" in out  # the rest as far as it can
    assert "schedule      running: '0 2 * * *' Europe/Zurich" in out
    assert "freshness     unknown while the configuration is invalid" in out
    data = json.loads(status("--json"))
    assert data["config_problem"].startswith("KAM_DUCKDB_THREADS='zwei'")
    assert data["freshness"] is None


def test_a_scheduled_run_that_left_no_trace_is_reported(settings, tmp_path, monkeypatch):
    """A daemon that is down or a code location that fails to load: no run, so no failure."""
    from datetime import UTC, datetime

    from orchestration.ops.status import collect_status

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    publish_by_hand(settings, "20250601T020000000000Z_aaaaaaaa", "2025-06-01T00:05:00+00:00", 10)
    at_noon = datetime(2025, 6, 2, 12, 0, tzinfo=UTC).timestamp()  # 02:00 Zurich went by

    schedule = collect_status(settings, now=at_noon)["schedule"]
    assert schedule["silent_tick"] == "2025-06-02T02:00:00+02:00"
    out = status()
    assert "NOTHING came of the run due" in out and "does the code location load?" in out

    publish_by_hand(settings, "20250602T000500000000Z_bbbbbbbb", "2025-06-02T00:05:00+00:00", 10)
    assert collect_status(settings, now=at_noon)["schedule"]["silent_tick"] is None
    monkeypatch.delenv("DAGSTER_HOME")  # no daemon: no tick to miss
    assert json.loads(status("--json"))["schedule"]["silent_tick"] is None
