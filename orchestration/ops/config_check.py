"""Every configuration a refresh reads, checked at once before any work: config/warehouse.yml
with its KAM_* overrides, sources/*.yml, config/scoring.yml and lifecycle.yml, the activity
catalogue; and, once the exchange rates are ingested, that they reach the reporting currency.

A problem raises ConfigError naming the file, the line and the key (or the variable). `kam
refresh`, every run (the warehouse resource) and the code location check it the same way, so a
configuration problem fails a refresh at its start, recorded and alerted (ops/failures.py).
"""

from __future__ import annotations

from typing import NamedTuple

import duckdb

from orchestration.costing.declarations import validate_sources
from orchestration.duck import quote_literal
from orchestration.settings import ConfigError, Settings, where_set
from orchestration.sources.contracts import EXCHANGE_RATES, load_contracts
from orchestration.steering.config import load_kam_config


def check_config(settings: Settings) -> None:
    """The files besides config/warehouse.yml (which `settings` passed already)."""
    settings.check_freshness_sources(set(load_contracts()))
    load_kam_config(settings.scoring_config, settings.lifecycle_config)
    if problems := validate_sources(settings.activity_rates_file):
        lines = problems if len(problems) == 1 else ["invalid configuration:", *problems]
        raise ConfigError("\n  ".join(lines))


def load_checked_settings() -> Settings:
    settings = Settings.load()
    check_config(settings)
    return settings


class ConfigState(NamedTuple):
    settings: Settings  # the fallback (the data folder only) when `settings_valid` is False
    problem: str | None
    settings_valid: bool


def config_state() -> ConfigState:
    """For a report that must work whatever the state (`kam status`): the settings as far as
    they are valid, and the configuration problem, if any."""
    try:
        settings = Settings.load()
    except ConfigError as e:
        return ConfigState(Settings.fallback(), str(e), False)
    try:
        check_config(settings)
    except ConfigError as e:
        return ConfigState(settings, str(e), True)
    return ConfigState(settings, None, True)


def check_reporting_currency(settings: Settings) -> None:
    """Rates must convert into the reporting currency. Without, every row in another currency
    would be quarantined one by one and the refresh end in a dozen failed checks; this is one
    early error. (No rates at all is left to the row rules: a one-currency business has none.)"""
    files = sorted(settings.accepted_dir(EXCHANGE_RATES).glob("*.parquet"))
    if not files:
        return
    listed = ", ".join(quote_literal(str(p)) for p in files)
    with duckdb.connect() as con:
        targets = [
            c
            for (c,) in con.execute(
                f"SELECT DISTINCT to_currency FROM read_parquet([{listed}]) ORDER BY 1"
            ).fetchall()
        ]
    currency = settings.reporting_currency
    if targets and currency not in targets:
        raise ConfigError(
            f"{where_set(('reporting_currency',))}: no exchange rates into {currency}: the rates "
            f"in {settings.raw_dir / load_contracts()[EXCHANGE_RATES].folder} convert into {', '.join(targets)} only. Set "
            f"reporting_currency to one of them, or deliver rates into {currency}"
        )
