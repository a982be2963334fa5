"""config/warehouse.yml and its KAM_* overrides, read by one model: defaults, validation,
errors that name the file (or the variable) and the key."""

from pathlib import Path

import pytest
from dagster import DefaultScheduleStatus

from orchestration.defs.nightly import refresh_schedule
from orchestration.settings import ConfigError, Settings, load_alerts, where_set

SOURCES = {"invoice_lines", "customers", "exchange_rates"}


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "warehouse.yml"
    path.write_text("reporting_currency: CHF\n" + text, encoding="utf-8")
    return path


def load(path: Path, **env: str) -> Settings:
    settings = Settings.load(path, env=env)
    settings.check_freshness_sources(SOURCES, path)
    return settings


def test_repository_config_schedules_the_refresh_at_two_in_zurich():
    cfg = Settings.load(env={})
    schedule = refresh_schedule(cfg.schedule)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Europe/Zurich")
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "kam_refresh"
    assert cfg.freshness.max_age_days("exchange_rates") == 35
    assert cfg.freshness.max_age_days("invoice_lines") == cfg.freshness.default_max_age_days


def test_missing_sections_take_the_defaults(tmp_path):
    cfg = load(config(tmp_path, ""))
    assert (cfg.schedule.cron, cfg.schedule.timezone, cfg.schedule.enabled) == (
        "0 2 * * *",
        "Europe/Zurich",
        True,
    )
    assert cfg.alerts.webhook_url is None


def test_schedule_from_file_and_stopped_when_not_enabled(tmp_path):
    path = config(tmp_path, "schedule: {cron: '30 5 * * 1-5', timezone: UTC, enabled: false}\n")
    schedule = refresh_schedule(load(path).schedule)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 5 * * 1-5", "UTC")
    assert schedule.default_status == DefaultScheduleStatus.STOPPED


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("schedule: {cron: '0 25 * * *'}", "schedule.cron: '0 25 * * *' is not a cron schedule"),
        ("duckdb: {threads: zwei}", "duckdb.threads: Input should be a valid integer"),
        ("duckdb: {memory_limit: lots}", "duckdb.memory_limit: 'lots' is not a memory size"),
        ("reporting_currency: Franken", "reporting_currency: 'Franken' is not an ISO currency"),
        ("costing: {as_of_date: today}", "costing.as_of_date: must be 'latest_data' or a date"),
        ("publications_to_keep: 0", "publications_to_keep: Input should be greater than"),
        ("warehouse: {}", "warehouse: Extra inputs are not permitted"),
        ("schedule: {cron: '0 2 * *'}", "schedule.cron: '0 2 * *' is not a cron schedule"),
        ("schedule: {timezone: Europe/Zürich}", "schedule.timezone: unknown timezone"),
        ("schedule: {every: day}", "schedule.every: Extra inputs are not permitted"),
        ("alerts: {webhook_url: 'ftp://x'}", "alerts.webhook_url: 'ftp://x' is not an http(s) URL"),
        (
            "freshness: {sources: {invoice_line: 3}}",
            "freshness.sources.invoice_line: unknown source",
        ),
        (
            "freshness: {sources: {customers: 0}}",
            "freshness.sources: customers: must be a positive",
        ),
    ],
)
def test_invalid_settings_stop_with_the_file_and_the_key(tmp_path, section, message):
    path = config(tmp_path, section + "\n")
    with pytest.raises(ConfigError) as e:
        load(path)
    assert str(e.value).startswith(f"{path}, line 2: ")  # the line of the key
    assert message in str(e.value)


def test_environment_overrides_and_names_the_variable_when_wrong(tmp_path):
    path = config(tmp_path, "schedule: {cron: '0 2 * * *'}\nalerts: {webhook_url: 'http://a/b'}\n")
    cfg = load(path, KAM_SCHEDULE_CRON="15 3 * * *", KAM_SCHEDULE_ENABLED="false")
    assert (cfg.schedule.cron, cfg.schedule.enabled) == ("15 3 * * *", False)
    assert load(path, KAM_ALERT_WEBHOOK_URL="").alerts.webhook_url is None
    assert load(path, KAM_ALERT_WEBHOOK_URL="https://h/x").alerts.webhook_url == "https://h/x"
    with pytest.raises(
        ConfigError, match=r"KAM_SCHEDULE_TIMEZONE='Mars/Olympus' \(overrides .*schedule\.timezone"
    ):
        load(path, KAM_SCHEDULE_TIMEZONE="Mars/Olympus")


def test_null_switches_a_source_off_and_the_default_covers_the_rest(tmp_path):
    path = config(tmp_path, "freshness: {default_max_age_days: 2, sources: {customers: null}}\n")
    freshness = load(path).freshness
    assert freshness.max_age_days("customers") is None
    assert freshness.max_age_days("invoice_lines") == 2


def test_alerts_survive_a_broken_schedule_but_not_a_broken_url(tmp_path):
    path = config(tmp_path, "schedule: {cron: nonsense}\nalerts: {webhook_url: 'http://h/x'}\n")
    assert load_alerts(path, env={}).webhook_url == "http://h/x"
    assert load_alerts(path, env={"KAM_ALERT_WEBHOOK_URL": "nope"}).webhook_url is None


def test_one_model_reads_the_file_and_the_environment(tmp_path):
    path = config(
        tmp_path, "duckdb: {memory_limit: 2GB, threads: 3}\ncosting: {as_of_date: 2024-05-31}\n"
    )
    s = Settings.load(path, env={"KAM_DUCKDB_THREADS": "4", "KAM_DATA_DIR": str(tmp_path / "d")})
    assert (s.memory_limit, s.threads, s.as_of_date) == ("2GB", 4, "2024-05-31")
    assert s.data_dir == (tmp_path / "d").resolve() and s.raw_dir == s.data_dir / "raw"
    assert Settings.load(path, env={"KAM_REPORTING_CURRENCY": "eur"}).reporting_currency == "EUR"


def test_bad_environment_value_names_the_variable_and_the_key(tmp_path):
    path = config(tmp_path, "")
    with pytest.raises(ConfigError) as e:
        Settings.load(path, env={"KAM_DUCKDB_THREADS": "zwei"})
    assert str(e.value).startswith(f"KAM_DUCKDB_THREADS='zwei' (overrides {path}: duckdb.threads)")


def test_broken_yaml_names_the_file_and_the_line(tmp_path):
    path = config(tmp_path, "duckdb:\n  threads: 2\n memory_limit: 1GB\nschedule: {}\n")
    with pytest.raises(ConfigError) as e:
        Settings.load(path, env={})
    assert str(e.value) == (
        f"{path}, line 4, column 2: not valid YAML: expected <block end>, but found "
        "'<block mapping start>' (while parsing a block mapping at line 1)"
    )
    path.write_text("- reporting_currency\n- CHF\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"warehouse\.yml, line 1: \(top\): expected a mapping"):
        Settings.load(path, env={})


def test_the_webhook_variable_still_alerts_when_the_file_is_broken(tmp_path):
    path = config(tmp_path, "alerts: {webhook_url: 'http://h/x'\n")  # unclosed
    assert load_alerts(path, env={}).webhook_url is None
    assert (
        load_alerts(path, env={"KAM_ALERT_WEBHOOK_URL": "http://v/y"}).webhook_url == "http://v/y"
    )


def test_where_a_setting_comes_from(tmp_path):
    path = config(tmp_path, "duckdb:\n  threads: 2\n")
    assert where_set(("duckdb", "threads"), path, {}) == f"{path}, line 3: duckdb.threads"
    assert where_set(("reporting_currency",), path, {"KAM_REPORTING_CURRENCY": "JPY"}) == (
        f"KAM_REPORTING_CURRENCY='JPY' (overrides {path}: reporting_currency)"
    )
    assert where_set(("schedule", "cron"), path, {}) == f"{path}: schedule.cron (default)"
