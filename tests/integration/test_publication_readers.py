"""Publishing is safe for BI readers, proven with real refreshes.

A reader in its own process (tests/integration/publication_reader.py) queries
`published/current` in a loop, through the serving DuckDB file and through the Parquet files,
while a month-scoped refresh publishes a changed month. Every observation must be one whole
publication (numbers agree with each other and with its manifest), the reader never errors and
sees both publications. A refresh that fails leaves `current` and its files byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.cli.runner import run_refresh
from orchestration.demo_data import generate
from orchestration.publish.folders import read_manifest
from orchestration.scope.run_scope import RunScope, write_scope
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.state import LAST_PUBLICATION

CHANGED = date(2023, 3, 1)  # the month the second refresh changes (of 2023-01 .. 2023-04)
TICKETS = (
    "ticket_id;customer_id;service_date;cost_category;hours;hourly_rate;material_amount;"
    "currency;description\n"
    "TX0001;{customer};14.03.2023;training;2,00;100,00;0,00;CHF;Schulung\n"
    "TX0002;{customer};20.03.2023;documentation;1,50;90,00;15,00;CHF;Zertifikate\n"
)
ADDED = Decimal("200.00") + Decimal("150.00")  # 2 h x 100 + (1.5 h x 90 + 15)


@pytest.fixture(scope="module")
def published_once(tmp_path_factory):
    data = tmp_path_factory.mktemp("readers")
    generate(data / "raw", invoice_lines=1500, seed=3, fmt="csv", months=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DATA_DIR", str(data))
        outcome = run_refresh()
    assert outcome.success, outcome.error
    return data, outcome.current


def observations(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the reader did not get there in time"
        time.sleep(0.1)


def seen(log: Path, name: str) -> int:
    return sum(o.get("publication") == name for o in observations(log))


def total_cost(publication: Path) -> Decimal:
    with duckdb.connect() as con:
        sql = f"SELECT sum(amount) FROM '{publication}/cost_to_serve/*.parquet'"
        return con.execute(sql).fetchone()[0]


def test_a_reader_only_ever_sees_whole_publications_while_a_refresh_publishes(
    published_once, tmp_path, monkeypatch
):
    data, first = published_once
    log, stop = tmp_path / "seen.jsonl", tmp_path / "stop"
    args = [str(data / "published"), str(log), str(stop)]
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.publication_reader", *args],
        cwd=PROJECT_ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: seen(log, first.name) >= 4)
        customers = next((data / "raw" / "customers").glob("*.csv")).read_bytes()
        customer = customers.splitlines()[1].split(b";")[0].decode()
        (data / "raw" / "service_logs" / "late_tickets.csv").write_text(
            TICKETS.format(customer=customer), encoding="utf-8"
        )
        monkeypatch.setenv("KAM_DATA_DIR", str(data))
        # What the scope step will write before dbt: only March changed.
        write_scope(Settings.load(), RunScope.of_months([CHANGED]))
        second = run_refresh()
        assert second.success, second.error
        assert second.current != first
        wait_for(lambda: seen(log, second.current.name) >= 6)
    finally:
        stop.touch()
        _, errors = reader.communicate(timeout=60)
    assert reader.returncode == 0, errors

    seen_all = observations(log)
    assert [o["error"] for o in seen_all if "error" in o] == []
    assert [o for o in seen_all if o["problems"]] == []
    for how in ("duckdb", "parquet"):
        names = {o["publication"] for o in seen_all if o["how"] == how}
        assert names == {first.name, second.current.name}, how

    # The scoped publication: March written afresh, every other month linked from the first.
    manifest = read_manifest(second.current)
    assert manifest["scope"] == {"full": False, "months": ["2023-03-01"]}
    assert manifest["carried_over"]["from"] == first.name
    for mart in ("cost_lines", "cost_to_serve"):
        carried = manifest["carried_over"]["months"][mart]
        assert carried == ["2023-01", "2023-02", "2023-04"], mart
        for label in carried:
            new, old = (p / mart / f"{label}.parquet" for p in (second.current, first))
            assert new.stat().st_ino == old.stat().st_ino
    assert total_cost(second.current) - total_cost(first) == ADDED


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_failing_refresh_leaves_current_and_its_files_byte_identical(published_once, monkeypatch):
    data, _ = published_once
    published = data / "published"
    link = os.readlink(published / "current")
    before = tree_digest(published / link)
    entries = sorted(p.name for p in published.iterdir())
    state = (data / "warehouse" / "state" / LAST_PUBLICATION).read_text()
    bad = data / "raw" / "invoice_lines" / "zz_broken_export.csv"
    bad.write_text("invoice_number;line_number\nX1;1\n", encoding="utf-8")
    monkeypatch.setenv("KAM_DATA_DIR", str(data))
    try:
        outcome = run_refresh()
    finally:
        bad.unlink()
    assert not outcome.success
    assert "zz_broken_export.csv" in outcome.error
    assert os.readlink(published / "current") == link
    assert tree_digest(published / link) == before
    assert sorted(p.name for p in published.iterdir()) == entries
    assert (data / "warehouse" / "state" / LAST_PUBLICATION).read_text() == state
