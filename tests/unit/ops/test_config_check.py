"""Every configuration a refresh reads, checked at once; the reporting currency against the
exchange rates."""

import re

import duckdb
import pytest

from orchestration.ops.config_check import (
    check_reporting_currency,
    config_state,
    load_checked_settings,
)
from orchestration.settings import ConfigError, Settings
from orchestration.sources.contracts import EXCHANGE_RATES


def test_the_repository_configuration_passes(settings):
    assert load_checked_settings().data_dir == settings.data_dir
    assert config_state() == (load_checked_settings(), None, True)


def test_a_broken_lifecycle_file_is_named_with_its_line(settings, tmp_path, monkeypatch):
    path = tmp_path / "lifecycle.yml"
    path.write_text("trend_months: 12\nrecovery: {min_complaints: [\n", encoding="utf-8")
    monkeypatch.setenv("KAM_LIFECYCLE_CONFIG", str(path))
    with pytest.raises(
        ConfigError, match=rf"{re.escape(str(path))}, line 3, column 1: not valid YAML"
    ):
        load_checked_settings()
    state = config_state()
    assert state.settings_valid and state.settings.data_dir == settings.data_dir
    assert state.problem.startswith(f"{path}, line 3")


def test_a_broken_activity_catalogue_is_a_configuration_problem(settings, tmp_path, monkeypatch):
    path = tmp_path / "rates.csv"
    path.write_text("activity,rate\n", encoding="utf-8")
    monkeypatch.setenv("KAM_ACTIVITY_RATES_FILE", str(path))
    with pytest.raises(ConfigError, match=r"rates\.csv: missing column"):
        load_checked_settings()


def test_invalid_settings_leave_the_data_folder_to_report_in(data_root, monkeypatch):
    monkeypatch.setenv("KAM_DUCKDB_THREADS", "zwei")
    state = config_state()
    assert not state.settings_valid
    assert state.settings.data_dir == data_root
    assert state.problem.startswith("KAM_DUCKDB_THREADS='zwei' (overrides ")


def accepted_rates(settings: Settings, *pairs: tuple[str, str]) -> None:
    folder = settings.accepted_dir(EXCHANGE_RATES)
    folder.mkdir(parents=True, exist_ok=True)
    values = ", ".join(f"('{a}', '{b}', 0.9)" for a, b in pairs)
    duckdb.execute(
        f"COPY (SELECT * FROM (VALUES {values}) t(from_currency, to_currency, rate)) "
        f"TO '{folder / 'rates.parquet'}'"
    )


def test_rates_into_another_currency_only_stop_with_one_error_naming_both(settings, monkeypatch):
    check_reporting_currency(settings)  # no rates ingested (yet): the row rules decide
    accepted_rates(settings, ("EUR", "CHF"), ("USD", "CHF"), ("CHF", "EUR"))
    check_reporting_currency(settings)  # CHF is covered
    monkeypatch.setenv("KAM_REPORTING_CURRENCY", "JPY")
    with pytest.raises(ConfigError) as e:
        check_reporting_currency(Settings.load())
    assert str(e.value).startswith("KAM_REPORTING_CURRENCY='JPY' (overrides ") and str(
        e.value
    ).endswith(
        f"reporting_currency): no exchange rates into JPY: the rates in "
        f"{settings.raw_dir / 'exchange_rates'} convert into CHF, EUR only. Set "
        "reporting_currency to one of them, or deliver rates into JPY"
    )
