"""Settings of one warehouse instance: config/warehouse.yml and its KAM_* environment overrides,
read and validated by one pydantic-settings model.

Everything that depends on where data lives goes through `Settings`, so tests and benchmarks
can point a whole refresh at a temporary folder with `KAM_DATA_DIR`. A bad value stops with a
message naming the file and the key, or the variable and the key it overrides.

Environment variables (each overrides one key):

    KAM_DATA_DIR, KAM_REPORTING_CURRENCY, KAM_DUCKDB_MEMORY_LIMIT, KAM_DUCKDB_THREADS,
    KAM_AS_OF_DATE, KAM_ACTIVITY_RATES_FILE, KAM_SCORING_CONFIG, KAM_LIFECYCLE_CONFIG,
    KAM_SCHEDULE_CRON, KAM_SCHEDULE_TIMEZONE, KAM_SCHEDULE_ENABLED,
    KAM_ALERT_WEBHOOK_URL (an empty value switches the webhook off)
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from orchestration.yaml_errors import describe_yaml_error, key_line, where_key

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_ROOT / "config" / "warehouse.yml"
SOURCES_DIR = PROJECT_ROOT / "sources"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
ACTIVITY_RATES_FILE = PROJECT_ROOT / "config" / "activity_rates.csv"
SCORING_CONFIG_FILE = PROJECT_ROOT / "config" / "scoring.yml"
LIFECYCLE_CONFIG_FILE = PROJECT_ROOT / "config" / "lifecycle.yml"
AS_OF_LATEST_DATA = "latest_data"
DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Europe/Zurich"

# Environment variable -> the key it overrides.
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "KAM_DATA_DIR": ("data_dir",),
    "KAM_REPORTING_CURRENCY": ("reporting_currency",),
    "KAM_DUCKDB_MEMORY_LIMIT": ("duckdb", "memory_limit"),
    "KAM_DUCKDB_THREADS": ("duckdb", "threads"),
    "KAM_AS_OF_DATE": ("costing", "as_of_date"),
    "KAM_ACTIVITY_RATES_FILE": ("activity_rates_file",),
    "KAM_SCORING_CONFIG": ("scoring_config",),
    "KAM_LIFECYCLE_CONFIG": ("lifecycle_config",),
    "KAM_SCHEDULE_CRON": ("schedule", "cron"),
    "KAM_SCHEDULE_TIMEZONE": ("schedule", "timezone"),
    "KAM_SCHEDULE_ENABLED": ("schedule", "enabled"),
    "KAM_ALERT_WEBHOOK_URL": ("alerts", "webhook_url"),
}
MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


class ConfigError(ValueError):
    """A setting is invalid; the message names the file (or variable) and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DuckDBConfig(_Strict):
    # Per DuckDB instance; DuckDB spills to the temp directory beyond it.
    memory_limit: str = "1GB"
    threads: int = Field(default=2, ge=1, le=256)

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, v: str) -> str:
        if not MEMORY.match(v):
            raise ValueError(f"{v!r} is not a memory size such as '1GB' or '512MB'")
        return v.strip()


class CostingConfig(_Strict):
    # Unpaid invoices accrue financing cost up to this date: AS_OF_LATEST_DATA (the latest
    # invoice or payment date in the data, i.e. the extraction date) or an ISO date. Never the
    # wall clock, so the same files always give the same numbers.
    as_of_date: str = AS_OF_LATEST_DATA

    @field_validator("as_of_date", mode="before")
    @classmethod
    def _as_of(cls, v: object) -> str:
        text = "" if v is None else str(v).strip()  # YAML may have parsed it into a date
        if text in ("", AS_OF_LATEST_DATA):
            return AS_OF_LATEST_DATA
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(
                f"must be '{AS_OF_LATEST_DATA}' or a date yyyy-mm-dd, got {text!r}"
            ) from None


class ScheduleConfig(_Strict):
    cron: str = DEFAULT_CRON
    timezone: str = DEFAULT_TIMEZONE
    # Whether the schedule starts running when the daemon first sees it. A start or stop in
    # the UI (or `dagster schedule start/stop`) is stored in the instance and wins afterwards.
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, v: str) -> str:
        if len(v.split()) != 5 or not croniter.is_valid(v):
            raise ValueError(
                f"{v!r} is not a cron schedule (5 fields: minute hour day-of-month month "
                "day-of-week, e.g. '0 2 * * *')"
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {v!r}; use an IANA name such as 'Europe/Zurich' or 'UTC'"
            ) from None
        return v


class AlertsConfig(_Strict):
    webhook_url: str | None = None
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        url = urlparse(v.strip())
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v.strip()


class FreshnessConfig(_Strict):
    # Days without a new file before a source's freshness check warns; null switches it off.
    default_max_age_days: float | None = Field(default=4, gt=0)
    sources: dict[str, float | None] = Field(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def _positive(cls, v: dict[str, float | None]) -> dict[str, float | None]:
        for name, days in v.items():
            if days is not None and days <= 0:
                raise ValueError(f"{name}: must be a positive number of days or null")
        return v

    def max_age_days(self, source: str) -> float | None:
        return self.sources.get(source, self.default_max_age_days)


class DatesConfig(_Strict):
    # A date before `earliest`, or more than `days_ahead` days after the day its file was first
    # ingested, is quarantined (a typo, or a two-digit year). Anchored on that day, not on each
    # run's clock, so a row's fate never changes while its file does not (docs/data-contract.md).
    earliest: date = date(2000, 1, 1)
    days_ahead: int = Field(default=366, ge=0, le=36_500)


class IngestConfig(_Strict):
    dates: DatesConfig = DatesConfig()
    # A watched value (plausibility: in sources/*.yml) above this many times its source's
    # typical largest value is quarantined (docs/data-contract.md); null switches it off.
    plausibility_factor: float | None = Field(default=100, gt=1)


# Which file and environment the next Settings() reads (set by Settings.load).
_SOURCE: ContextVar[tuple[Path, Mapping[str, str]]] = ContextVar("kam_settings_source")


class _EnvOverrides(PydanticBaseSettingsSource):
    """The KAM_* variables of ENV_OVERRIDES, each placed at the key it overrides."""

    def get_field_value(self, field, field_name):  # not used: __call__ builds the whole dict
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        _, env = _SOURCE.get((CONFIG_FILE, os.environ))
        data: dict[str, Any] = {}
        for var, path in ENV_OVERRIDES.items():
            if var in env:
                node = data
                for key in path[:-1]:
                    node = node.setdefault(key, {})
                node[path[-1]] = env[var]
        return data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    reporting_currency: str = "CHF"
    data_dir: Path = PROJECT_ROOT / "data"
    duckdb: DuckDBConfig = DuckDBConfig()
    publications_to_keep: int = Field(default=5, ge=1)
    costing: CostingConfig = CostingConfig()
    activity_rates_file: Path = ACTIVITY_RATES_FILE
    # Key-account scoring matrix and lifecycle rules.
    scoring_config: Path = SCORING_CONFIG_FILE
    lifecycle_config: Path = LIFECYCLE_CONFIG_FILE
    schedule: ScheduleConfig = ScheduleConfig()
    alerts: AlertsConfig = AlertsConfig()
    freshness: FreshnessConfig = FreshnessConfig()
    ingest: IngestConfig = IngestConfig()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path, _ = _SOURCE.get((CONFIG_FILE, os.environ))
        # Earlier sources win: arguments, then KAM_* variables, then the YAML file.
        return (
            init_settings,
            _EnvOverrides(settings_cls),
            YamlConfigSettingsSource(settings_cls, path),
        )

    @field_validator("reporting_currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        code = v.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"{v!r} is not an ISO currency code such as 'CHF' or 'EUR'")
        return code

    @field_validator("data_dir", "activity_rates_file", "scoring_config", "lifecycle_config")
    @classmethod
    def _resolved(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @classmethod
    def load(cls, path: Path = CONFIG_FILE, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of `path` with the KAM_* overrides of `env` (default: os.environ)."""
        env = os.environ if env is None else env
        token = _SOURCE.set((path, env))
        try:
            return cls()
        except ValidationError as e:
            raise ConfigError(_describe(e, path, env)) from None
        except yaml.YAMLError as e:
            raise ConfigError(describe_yaml_error(path, e)) from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: cannot be read: {e}") from None
        except (TypeError, ValueError):  # pydantic-settings merging a list or a scalar
            raise ConfigError(f"{path}, line 1: (top): expected a mapping of settings") from None
        finally:
            _SOURCE.reset(token)

    @classmethod
    def fallback(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Defaults and the data folder only, unvalidated: where to record that the
        configuration itself is invalid (failures.jsonl), when `load` cannot succeed."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("KAM_DATA_DIR") or PROJECT_ROOT / "data").expanduser().resolve()
        return cls.model_construct(data_dir=data_dir)

    # Short names for the settings read everywhere.
    @property
    def memory_limit(self) -> str:
        return self.duckdb.memory_limit

    @property
    def threads(self) -> int:
        return self.duckdb.threads

    @property
    def as_of_date(self) -> str:
        return self.costing.as_of_date

    def check_freshness_sources(self, known: set[str], path: Path = CONFIG_FILE) -> None:
        """freshness.sources may only name declared sources: a typo would otherwise silently
        fall back to the default limit."""
        for name in self.freshness.sources:
            if name not in known:
                raise ConfigError(
                    f"{where_key(path, ('freshness', 'sources', name))}: unknown source; "
                    f"declared sources: {', '.join(sorted(known))}"
                )

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def warehouse_dir(self) -> Path:
        """The pipeline's private working area; BI tools never read it."""
        return self.data_dir / "warehouse"

    @property
    def ingested_dir(self) -> Path:
        return self.warehouse_dir / "ingested"

    @property
    def quarantine_dir(self) -> Path:
        return self.warehouse_dir / "quarantine"

    def accepted_dir(self, source: str) -> Path:
        """Accepted rows of a source: one Parquet file per raw file (ingest/load.py)."""
        return self.ingested_dir / source

    def accepted_glob(self, source: str) -> str:
        return str(self.accepted_dir(source) / "*.parquet")

    def quarantine_dir_of(self, source: str) -> Path:
        return self.quarantine_dir / source

    def quarantine_glob(self, source: str) -> str:
        return str(self.quarantine_dir_of(source) / "*.parquet")

    @property
    def config_dir(self) -> Path:
        """Validated configuration (the activity catalogue) as Parquet, read by dbt."""
        return self.warehouse_dir / "config"

    @property
    def warehouse_db(self) -> Path:
        return self.warehouse_dir / "kam.duckdb"

    @property
    def history_dir(self) -> Path:
        """State that must outlive a rebuild of warehouse/: the key-account designation log."""
        return self.data_dir / "history"

    @property
    def data_docs_dir(self) -> Path:
        """GX Data Docs of the latest validations (copied into each publication)."""
        return self.warehouse_dir / "data_docs"

    @property
    def state_dir(self) -> Path:
        """Incremental-refresh state (paths in state.py)."""
        return self.warehouse_dir / "state"

    @property
    def log_dir(self) -> Path:
        return self.warehouse_dir / "logs"

    @property
    def temp_dir(self) -> Path:
        return self.warehouse_dir / "tmp"

    @cached_property
    def dbt_env(self) -> dict[str, str]:
        """Environment the dbt subprocess reads in profiles.yml and sources.yml."""
        return {
            "KAM_WAREHOUSE_DB": str(self.warehouse_db),
            "KAM_INGESTED_DIR": str(self.ingested_dir),
            "KAM_CONFIG_DIR": str(self.config_dir),
            "KAM_DUCKDB_MEMORY_LIMIT": self.memory_limit,
            "KAM_DUCKDB_THREADS": str(self.threads),
            "KAM_DUCKDB_TEMP_DIR": str(self.temp_dir),
            "KAM_HISTORY_DIR": str(self.history_dir),
        }

    def ensure_dirs(self) -> None:
        for d in (
            self.raw_dir,
            self.published_dir,
            self.ingested_dir,
            self.quarantine_dir,
            self.config_dir,
            self.temp_dir,
            self.history_dir,
        ):
            d.mkdir(parents=True, exist_ok=True)


def load_alerts(path: Path = CONFIG_FILE, env: Mapping[str, str] | None = None) -> AlertsConfig:
    """The alerts section, also when other settings are invalid (a bad cron must not silence
    the alert about it): from the file if still readable, with KAM_ALERT_WEBHOOK_URL on top;
    that variable alone when the file is broken; else no alerting."""
    return _section("alerts", AlertsConfig, path, env)


def load_schedule(path: Path = CONFIG_FILE, env: Mapping[str, str] | None = None) -> ScheduleConfig:
    """The schedule section, also when other settings are invalid, else the default (02:00
    Europe/Zurich): the refresh meant to run then still starts, fails on the configuration
    and alerts, rather than the night going silent."""
    return _section("schedule", ScheduleConfig, path, env)


def _section(name: str, model: type[_Strict], path: Path, env: Mapping[str, str] | None) -> Any:
    env = os.environ if env is None else env
    try:
        return getattr(Settings.load(path, env), name)
    except ConfigError:
        pass
    overrides = {k[1]: env[v] for v, k in ENV_OVERRIDES.items() if k[0] == name and v in env}
    try:
        section = dict((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(name) or {})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError, TypeError, ValueError):
        section = {}
    for candidate in (section | overrides, overrides, {}):
        try:
            return model.model_validate(candidate)
        except ValidationError:
            continue
    return model()


def where_set(
    keys: tuple[str, ...], path: Path = CONFIG_FILE, env: Mapping[str, str] | None = None
) -> str:
    """Where the setting `keys` comes from, for a message about its value: the variable that
    overrides it, or the file and line (or the file, when it is the default)."""
    env = os.environ if env is None else env
    var = next((v for v, k in ENV_OVERRIDES.items() if k == keys and v in env), None)
    if var:
        return f"{var}={env[var]!r} (overrides {path}: {'.'.join(keys)})"
    return where_key(path, keys) if key_line(path, keys) else f"{path}: {'.'.join(keys)} (default)"


def _describe(error: ValidationError, path: Path, env: Mapping[str, str]) -> str:
    overridden = {keys: var for var, keys in ENV_OVERRIDES.items() if var in env}
    problems = []
    for err in error.errors():
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc)
        msg = err["msg"].removeprefix("Value error, ")
        var = next((v for keys, v in overridden.items() if loc[: len(keys)] == keys), None)
        where = f"{var}={env[var]!r} (overrides {path}: {key})" if var else where_key(path, loc)
        problems.append(f"{where}: {msg}")
    return "; ".join(problems)
