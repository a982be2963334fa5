"""Which optional sources are empty in a run, as the mart validation sees them: no accepted row
in the ingested Parquet files (the zero-row schema file counts as none), or never ingested."""

import duckdb

from orchestration.validate.marts import sources_without_rows


def test_sources_without_accepted_rows(settings):
    for source, rows in (("cost_budgets", 0), ("deductions", 2)):
        folder = settings.accepted_dir(source)
        folder.mkdir(parents=True)
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT range AS x FROM range({rows})) TO '{folder}/a.parquet'")
            con.execute(f"COPY (SELECT 1 AS x LIMIT 0) TO '{folder}/_empty.parquet'")
    names = {"cost_budgets", "deductions", "shipments"}
    assert sources_without_rows(settings, names) == {"cost_budgets", "shipments"}
    assert sources_without_rows(settings, set()) == set()
