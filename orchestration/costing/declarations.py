"""Check the cost-source declarations in sources/ as a whole: the cost-category list, each
file's schema, the references between sources, every driver-based source's activity against the
activity catalogue, and what the mart suites in expectations/ take from the declarations.
`kam sources validate` prints what this finds; the costing checks of a refresh block on it.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.costing.catalogue import CatalogueError, load_catalogue
from orchestration.settings import EXPECTATIONS_DIR, SOURCES_DIR
from orchestration.sources.categories import CATEGORIES_FILE, category_problems
from orchestration.sources.contracts import (
    ContractError,
    DriverAllocation,
    load_contract,
    load_contracts,
)
from orchestration.sources.dbt_codegen import cost_contracts
from orchestration.sources.suite_refs import suite_problems


def catalogue_problems(rates, sources_dir: Path = SOURCES_DIR) -> list[str]:
    """Driver-based declarations whose activity the catalogue does not have (or has on another
    driver). `rates`: the validated catalogue rows (orchestration/costing/catalogue.py)."""
    drivers = {r.activity: r.driver for r in rates}
    problems = []
    for c in cost_contracts(sources_dir):
        alloc = c.cost.allocation if c.cost else None
        if not isinstance(alloc, DriverAllocation):
            continue
        where = f"sources/{c.name}.yml: cost.allocation.activity"
        if alloc.activity not in drivers:
            problems.append(
                f"{where}: unknown activity {alloc.activity!r} (not in the activity catalogue; "
                f"add rows for it with driver {alloc.driver})"
            )
        elif drivers[alloc.activity] != alloc.driver:
            problems.append(
                f"{where}: activity {alloc.activity!r} prices driver "
                f"{drivers[alloc.activity]!r} in the catalogue, not {alloc.driver!r}"
            )
    return problems


def validate_sources(
    activity_rates_file: Path,
    sources_dir: Path = SOURCES_DIR,
    categories_file: Path = CATEGORIES_FILE,
    suites_dir: Path = EXPECTATIONS_DIR,
) -> list[str]:
    """Every problem of the declarations (the category list, each source's schema, references
    between sources, the activity catalogue, what the mart suites take from them); [] when all
    is well. The category list comes first: every other check reads it."""
    if problems := category_problems(categories_file):
        return ["invalid cost categories: " + p for p in problems]
    for path in sorted(sources_dir.glob("*.yml")):
        try:
            contract = load_contract(path)
            if contract.name != path.stem:
                problems.append(f"{path}: name: {contract.name!r} differs from the file name")
        except ContractError as e:
            problems.append(str(e))
    if problems:
        return problems
    try:
        contracts = load_contracts(sources_dir)
        rates = load_catalogue(activity_rates_file)
    except (ContractError, CatalogueError) as e:
        return [str(e)]
    return catalogue_problems(rates, sources_dir) + suite_problems(contracts, suites_dir)
