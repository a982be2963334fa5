"""The dbt CLI resource skips dagster-dbt's unused start-up work, and stays honest about it."""

import json
from importlib import metadata

from dagster_dbt import DbtCliResource

from orchestration.defs.resources import KamDbtCliResource, dbt_cli
from orchestration.transform.manifest import keep_partial_parse


def test_overridden_dagster_dbt_internals_still_exist():
    # If a dagster-dbt upgrade renames these, the overrides would silently do nothing.
    assert "_cli_version" in vars(DbtCliResource)
    assert callable(DbtCliResource._initialize_dbt_core_adapter)


def test_version_comes_from_the_installed_dbt_core_without_a_subprocess(monkeypatch):
    def no_subprocess(*_args, **_kwargs):
        raise AssertionError("dbt --version must not be run")

    monkeypatch.setattr("dagster_dbt.core.resource.check_output", no_subprocess)
    resource = dbt_cli()
    assert isinstance(resource, KamDbtCliResource)
    assert str(resource._cli_version) == metadata.version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_a_runs_parse_state_becomes_the_next_runs_starting_point(tmp_path):
    (tmp_path / "target").mkdir()
    run_target = tmp_path / "target" / "run-1"
    run_target.mkdir()
    keep_partial_parse(run_target, tmp_path / "target")  # nothing written by dbt: nothing to keep
    assert not (tmp_path / "target" / "partial_parse.msgpack").exists()
    (run_target / "partial_parse.msgpack").write_bytes(json.dumps({"run": 1}).encode())
    keep_partial_parse(run_target, tmp_path / "target")
    assert (tmp_path / "target" / "partial_parse.msgpack").read_bytes() == b'{"run": 1}'
    assert [p.name for p in (tmp_path / "target").iterdir() if p.is_file()] == [
        "partial_parse.msgpack"
    ]
