"""The dbt CLI resource skips dagster-dbt's unused start-up work, and stays honest about it."""

from importlib import metadata

from dagster_dbt import DbtCliResource

from orchestration.defs.resources import KamDbtCliResource, dbt_cli


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
