"""Benchmark harness: `kam refresh` against a bare DuckDB script and a pandas baseline.

`python -m bench` (or `kam bench`); see docs/benchmarks.md for the method and the latest results.
Modules: datasets (generated once per scale, cached), measure (child process time and memory),
bare_duckdb(.sql) and pandas_baseline (the baselines), compare (row-by-row agreement),
harness (the run), report (Markdown, CSV, JSON, charts).
"""
