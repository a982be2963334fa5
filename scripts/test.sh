#!/usr/bin/env bash
# The whole check: locked install, lint (Python and SQL), then the test suite.
# Called by the README's test command and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m uv sync --locked
python3 -m uv run --locked ruff check .
python3 -m uv run --locked ruff format --check .
python3 -m uv run --locked sqlfmt --check dbt_project
# the floor plan: layers, Dagster only in the wiring, no cycles (pyproject.toml [tool.importlinter])
python3 -m uv run --locked lint-imports
# --dist loadfile: a module's expensive fixtures (a whole refresh) are built once, not per worker.
# First the default suite (unit and integration), then the bad-input and fault cases.
python3 -m uv run --locked pytest -n 2 --dist loadfile "$@"
# (exit 5, "no tests collected", when "$@" names only tests outside tests/robustness/)
python3 -m uv run --locked pytest -n 2 --dist loadfile -m robustness "$@" || [ $? -eq 5 ]
