"""`kam sources list`: per declared source its kind, owner, last load and row counts."""

from __future__ import annotations

from datetime import datetime

import duckdb

from orchestration.duck import quote_literal
from orchestration.settings import Settings
from orchestration.sources.contracts import load_contracts
from orchestration.state import ledger_file


def source_status(settings: Settings) -> list[dict]:
    """Per declared source: kind, owner, last load (time of the accepted Parquet), counts."""
    out = []
    for c in load_contracts().values():
        ledger = ledger_file(settings, c.name)
        row = {
            "source": c.name,
            "kind": (
                "cost, direct"
                if c.cost and c.cost.is_direct
                else "cost, driver-based"
                if c.cost
                else "core"
            ),
            "owner": c.cost.owner if c.cost else None,
            "last_load": None,
            "raw_rows": None,
            "accepted_rows": None,
            "quarantined_rows": None,
        }
        if ledger.exists():
            with duckdb.connect() as con:
                n_ok = con.execute(
                    f"SELECT count(*) FROM read_parquet({quote_literal(settings.accepted_glob(c.name))})"
                ).fetchone()[0]
                n_bad = (
                    con.execute(
                        "SELECT count(*) FROM read_parquet("
                        f"{quote_literal(settings.quarantine_glob(c.name))})"
                    ).fetchone()[0]
                    if any(settings.quarantine_dir_of(c.name).glob("*.parquet"))
                    else 0
                )
            row |= {
                "last_load": datetime.fromtimestamp(ledger.stat().st_mtime).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "raw_rows": n_ok + n_bad,
                "accepted_rows": n_ok,
                "quarantined_rows": n_bad,
            }
        out.append(row)
    return out
