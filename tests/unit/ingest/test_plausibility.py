"""The plausibility guard: a value far above its source's history is quarantined for review."""

import duckdb

from orchestration.ingest.ledger import FileEntry
from orchestration.ingest.load import ingest_source
from orchestration.ingest.plausibility import references
from orchestration.settings import Settings
from orchestration.sources.contracts import load_contracts
from tests.conftest import INVOICE_HEADER

SOURCES = ("exchange_rates", "customers", "invoice_lines")


def entry(key: str, typical: float | None) -> FileEntry:
    return FileEntry(key, key, 0, 0, 0, "", typical={"quantity": typical})


def test_a_files_reference_is_the_median_of_the_files_up_to_it():
    files = [entry("a", 10.0), entry("b", None), entry("c", 30.0), entry("d", 1e6)]
    refs = references(files, ("quantity",))
    assert [refs[k]["quantity"] for k in "abcd"] == [10.0, 10.0, 20.0, 30.0]


def month(n: int, quantities: list[str]) -> str:
    return INVOICE_HEADER + "".join(
        f"R{n}{i:03d};1;05.{n:02d}.2024;C1;P1;{q};10,00;CHF;invoice;8;28.{n:02d}.2024;\n"
        for i, q in enumerate(quantities)
    )


def ingest(settings: Settings):
    contracts = load_contracts()
    for name in SOURCES:
        result = ingest_source(contracts[name], settings)
    return result


def quarantined(settings: Settings) -> dict[tuple[str, int], str]:
    rows = duckdb.execute(
        "SELECT source_file, source_row, reason FROM read_parquet(?)",
        [settings.quarantine_glob("invoice_lines")],
    ).fetchall()
    return {(f.rsplit("/", 1)[-1], r): why for f, r, why in rows}


def test_a_line_far_above_the_history_is_quarantined(settings, base_sources, write_raw):
    typical = [str(q) for q in range(1, 21)]  # 99th percentile 19,81
    write_raw("invoice_lines", "2024-01.csv", month(1, typical))
    write_raw("invoice_lines", "2024-02.csv", month(2, typical))
    write_raw("invoice_lines", "2024-03.csv", month(3, [*typical, "1.950", "2.500"]))
    result = ingest(settings)
    assert (result.raw_rows, result.accepted_rows, result.quarantined_rows) == (62, 61, 1)
    # March's own percentile is higher; the median of the three still is January's
    assert quarantined(settings) == {
        ("2024-03.csv", 22): (
            "implausible quantity: 2.500,000 (more than 100 x 19,810, the median 99th "
            "percentile of quantity in the invoice_lines files up to this one, "
            "ingest.plausibility_factor in config/warehouse.yml); implausible quantity x "
            "unit_price: 25.000,000 (more than 100 x 198,100, the median 99th percentile of "
            "quantity x unit_price in the invoice_lines files up to this one, "
            "ingest.plausibility_factor in config/warehouse.yml)"
        )
    }
    # a file sorting later does not change what earlier files yield
    write_raw("invoice_lines", "2024-04.csv", month(4, ["1.000"] * 20))
    result = ingest(settings)
    assert result.rewritten_files == ["invoice_lines/2024-04.csv"]
    assert list(quarantined(settings)) == [("2024-03.csv", 22)]


def test_a_file_sorting_earlier_moves_the_references_after_it(settings, base_sources, write_raw):
    write_raw("invoice_lines", "2024-02.csv", month(2, ["1.500", "1"]))
    write_raw("invoice_lines", "2024-03.csv", month(3, ["1.500", "2"]))
    assert ingest(settings).quarantined_rows == 0
    write_raw("invoice_lines", "2024-01.csv", month(1, ["1", "2", "3"]))
    write_raw("invoice_lines", "2023-12.csv", month(12, ["2", "3"]))
    result = ingest(settings)
    # February is judged again against the median of December, January and itself; March's
    # median (of four) lies between the small and the large files
    assert "invoice_lines/2024-02.csv" in result.rewritten_files
    assert sorted(quarantined(settings)) == [("2024-02.csv", 1)]
    before = quarantined(settings)
    ingest_source(load_contracts()["invoice_lines"], settings, reparse_all=True)
    assert quarantined(settings) == before  # the same as ingesting all files at once


def test_the_guard_can_be_switched_off(settings, base_sources, write_raw, monkeypatch, tmp_path):
    config = tmp_path / "warehouse.yml"
    config.write_text("ingest: {plausibility_factor: null}\n")
    off = Settings.load(config)
    write_raw("invoice_lines", "2024-01.csv", month(1, ["1", "1", "1.000.000"]))
    assert ingest(off).quarantined_rows == 0
