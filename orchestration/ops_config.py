"""Operations settings of config/warehouse.yml: the refresh schedule, failure alerts, freshness.

Validated when the code location loads (a bad cron or an unknown timezone stops it with a
message naming the file and the key) and again by `kam refresh` before any work. Environment
variables override single keys, like the other KAM_* settings:

    KAM_SCHEDULE_CRON, KAM_SCHEDULE_TIMEZONE, KAM_SCHEDULE_ENABLED (true/false),
    KAM_ALERT_WEBHOOK_URL (an empty value switches the webhook off)
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import yaml
from dagster._utils.schedules import is_valid_cron_schedule
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestration.settings import CONFIG_FILE

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Europe/Zurich"
ENV_OVERRIDES = {
    "KAM_SCHEDULE_CRON": ("schedule", "cron"),
    "KAM_SCHEDULE_TIMEZONE": ("schedule", "timezone"),
    "KAM_SCHEDULE_ENABLED": ("schedule", "enabled"),
    "KAM_ALERT_WEBHOOK_URL": ("alerts", "webhook_url"),
}


class OpsConfigError(ValueError):
    """An operations setting is invalid; the message names the file (or variable) and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleConfig(_Strict):
    cron: str = DEFAULT_CRON
    timezone: str = DEFAULT_TIMEZONE
    # Whether the schedule starts running when the daemon first sees it. A start or stop in
    # the UI (or `dagster schedule start/stop`) is stored in the instance and wins afterwards.
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, v: str) -> str:
        if not is_valid_cron_schedule(v):
            raise ValueError(
                f"{v!r} is not a cron schedule Dagster accepts (5 fields: minute hour "
                "day-of-month month day-of-week, e.g. '0 2 * * *')"
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


class OpsConfig(_Strict):
    schedule: ScheduleConfig = ScheduleConfig()
    alerts: AlertsConfig = AlertsConfig()
    freshness: FreshnessConfig = FreshnessConfig()


def load_ops_config(
    path: Path = CONFIG_FILE,
    env: Mapping[str, str] | None = None,
    known_sources: set[str] | None = None,
) -> OpsConfig:
    """The schedule, alerts and freshness sections of `path`, with KAM_* overrides applied.

    `known_sources` (default: the declarations in sources/) are the names freshness.sources may
    use; a typo there would otherwise silently fall back to the default limit.
    """
    data, overridden = _sections(path, os.environ if env is None else env)
    try:
        config = OpsConfig.model_validate(data)
    except ValidationError as e:
        raise OpsConfigError(_describe(e, path, overridden)) from None
    _check_sources(config.freshness, path, known_sources)
    return config


def load_alerts_config(
    path: Path = CONFIG_FILE, env: Mapping[str, str] | None = None
) -> AlertsConfig:
    """The alerts section alone, or no alerting if it is invalid too: for reporting a failure
    of the configuration itself (a bad cron must not silence the alert about it)."""
    try:
        data, _ = _sections(path, os.environ if env is None else env)
        return AlertsConfig.model_validate(data["alerts"])
    except (OpsConfigError, ValidationError):
        return AlertsConfig()


def _sections(path: Path, env: Mapping[str, str]) -> tuple[dict, dict[tuple[str, str], str]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise OpsConfigError(f"{path}: not valid YAML: {e}") from None
    data = {key: dict(raw.get(key) or {}) for key in ("schedule", "alerts", "freshness")}
    overridden: dict[tuple[str, str], str] = {}
    for var, (section, key) in ENV_OVERRIDES.items():
        if var in env:
            data[section][key] = env[var]
            overridden[(section, key)] = var
    return data, overridden


def _describe(error: ValidationError, path: Path, overridden: dict[tuple[str, str], str]) -> str:
    problems = []
    for err in error.errors():
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc)
        msg = err["msg"].removeprefix("Value error, ")
        var = overridden.get(loc[:2]) if len(loc) >= 2 else None
        where = f"{var} (overrides {path}: {key})" if var else f"{path}: {key}"
        problems.append(f"{where}: {msg}")
    return "; ".join(problems)


def _check_sources(freshness: FreshnessConfig, path: Path, known: set[str] | None) -> None:
    if known is None:
        from orchestration.sources.contracts import load_contracts

        known = set(load_contracts())
    for name in freshness.sources:
        if name not in known:
            raise OpsConfigError(
                f"{path}: freshness.sources.{name}: unknown source; "
                f"declared sources: {', '.join(sorted(known))}"
            )
