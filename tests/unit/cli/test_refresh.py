"""`kam refresh` and `kam backfill` stopped before their run (invalid configuration, a pipeline
that cannot load): the console says why, failures.jsonl records it, the webhook gets it."""

import json

import pytest
from click.testing import CliRunner

from orchestration.cli.main import main
from orchestration.ops.failures import failures_path
from orchestration.settings import Settings

BROKEN = """\
reporting_currency: CHF
duckdb:
  threads: 2
 memory_limit: 1GB
"""


def records(settings) -> list[dict]:
    path = failures_path(settings)
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def broken_warehouse_yml(data_root, tmp_path, monkeypatch):
    """config/warehouse.yml with a syntax error (a copy: the repository's file stays intact)."""
    path = tmp_path / "warehouse.yml"
    path.write_text(BROKEN, encoding="utf-8")
    load = Settings.load.__func__
    monkeypatch.setattr(
        Settings, "load", classmethod(lambda cls, p=path, env=None: load(cls, p, env))
    )
    return path


def test_a_broken_warehouse_yml_is_shown_recorded_and_alerted_with_its_line(
    broken_warehouse_yml, data_root, webhook
):
    result = CliRunner().invoke(main, ["refresh"])

    assert result.exit_code == 1 and type(result.exception) is SystemExit
    error = (
        f"{broken_warehouse_yml}, line 4, column 2: not valid YAML: expected <block end>, but "
        "found '<block mapping start>' (while parsing a block mapping at line 1)"
    )
    assert result.output.splitlines() == [
        f"refresh FAILED before it started: {error}",
        "published/current unchanged",
        f"failure recorded in {data_root / 'warehouse/logs/failures.jsonl'}; webhook sent (HTTP 200)",
    ]
    [record] = records(Settings.fallback())
    assert (record["error"], record["run_id"], record["data_dir"]) == (error, None, str(data_root))
    assert webhook.received == [record]


def test_a_backfill_with_a_bad_variable_is_recorded_and_marks_nothing_pending(
    settings, webhook, monkeypatch
):
    monkeypatch.setenv("KAM_DUCKDB_THREADS", "zwei")
    result = CliRunner().invoke(main, ["backfill", "--from", "2025-01", "--to", "2025-02"])
    assert result.exit_code == 1
    [record] = records(settings)
    assert record["error"].startswith("KAM_DUCKDB_THREADS='zwei' (overrides ")
    assert webhook.received == [record]
    assert not settings.state_dir.exists() or not any(settings.state_dir.rglob("*"))


def test_a_pipeline_that_cannot_load_is_recorded_too(settings, webhook, monkeypatch):
    def cannot_load(full: bool):
        raise RuntimeError("dbt_project/models/x.sql: compilation failed")

    monkeypatch.setattr("orchestration.cli.runner.run_refresh", cannot_load)
    result = CliRunner().invoke(main, ["refresh"])
    assert result.exit_code == 1
    assert "refresh FAILED before its run: RuntimeError: dbt_project/models/x.sql" in result.output
    assert "Traceback" in result.output  # not a configuration problem: where it broke helps
    [record] = records(settings)
    assert record["error"] == "RuntimeError: dbt_project/models/x.sql: compilation failed"
    assert webhook.received == [record]
