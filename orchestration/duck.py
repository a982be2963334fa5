"""One way to open DuckDB: with explicit memory, thread and spill settings (house style)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.settings import Settings


def connect(
    settings: Settings, database: Path | str = ":memory:", read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database), read_only=read_only)
    con.execute(f"SET memory_limit = '{settings.memory_limit}'")
    con.execute(f"SET threads = {int(settings.threads)}")
    con.execute(f"SET temp_directory = '{settings.temp_dir}'")
    return con


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB SQL (names from declarations are never pasted raw)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
