"""Paths and settings of one warehouse instance, resolved once from config and environment.

Everything that depends on where data lives goes through `Settings`, so tests and benchmarks
can point a whole refresh at a temporary folder with `KAM_DATA_DIR`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_ROOT / "config" / "warehouse.yml"
SOURCES_DIR = PROJECT_ROOT / "sources"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
ACTIVITY_RATES_FILE = PROJECT_ROOT / "config" / "activity_rates.csv"
AS_OF_LATEST_DATA = "latest_data"
SCORING_CONFIG_FILE = PROJECT_ROOT / "config" / "scoring.yml"
LIFECYCLE_CONFIG_FILE = PROJECT_ROOT / "config" / "lifecycle.yml"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    reporting_currency: str
    memory_limit: str
    threads: int
    publications_to_keep: int
    activity_rates_file: Path = ACTIVITY_RATES_FILE
    # Unpaid invoices accrue financing cost up to this date: AS_OF_LATEST_DATA (the latest
    # invoice or payment date in the data, i.e. the extraction date) or an ISO date. Never the
    # wall clock, so the same files always give the same numbers.
    as_of_date: str = AS_OF_LATEST_DATA
    # Key-account scoring matrix and lifecycle rules (KAM_SCORING_CONFIG / KAM_LIFECYCLE_CONFIG).
    scoring_config: Path = SCORING_CONFIG_FILE
    lifecycle_config: Path = LIFECYCLE_CONFIG_FILE

    @classmethod
    def load(cls) -> Settings:
        cfg = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
        env = os.environ
        return cls(
            data_dir=Path(env.get("KAM_DATA_DIR", PROJECT_ROOT / "data")).resolve(),
            reporting_currency=env.get("KAM_REPORTING_CURRENCY", cfg["reporting_currency"]).upper(),
            memory_limit=env.get("KAM_DUCKDB_MEMORY_LIMIT", cfg["duckdb"]["memory_limit"]),
            threads=int(env.get("KAM_DUCKDB_THREADS", cfg["duckdb"]["threads"])),
            publications_to_keep=int(cfg["publications_to_keep"]),
            activity_rates_file=Path(
                env.get("KAM_ACTIVITY_RATES_FILE", ACTIVITY_RATES_FILE)
            ).resolve(),
            as_of_date=_as_of_date(
                env.get("KAM_AS_OF_DATE", cfg.get("costing", {}).get("as_of_date"))
            ),
            scoring_config=Path(env.get("KAM_SCORING_CONFIG", SCORING_CONFIG_FILE)).resolve(),
            lifecycle_config=Path(env.get("KAM_LIFECYCLE_CONFIG", LIFECYCLE_CONFIG_FILE)).resolve(),
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
        """Incremental-refresh state: the processed-files ledger, parse cache, run scope."""
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


def _as_of_date(value: object) -> str:
    """`latest_data` or an ISO date (YAML may already have parsed it into a date)."""
    if value is None or str(value).strip() == "":
        return AS_OF_LATEST_DATA
    text = str(value).strip()
    if text == AS_OF_LATEST_DATA:
        return text
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(
            f"{CONFIG_FILE}: costing.as_of_date (or KAM_AS_OF_DATE) must be "
            f"'{AS_OF_LATEST_DATA}' or a date yyyy-mm-dd, got {text!r}"
        ) from None
