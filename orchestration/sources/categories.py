"""The cost-category taxonomy, defined once: dbt_project/seeds/cost_categories.csv.

dbt loads the file as a seed (ids, labels, report order); everything else reads the ids from
here: the declarations in sources/*.yml, the activity catalogue, the ingest's taxonomy check,
the generated source suites and the mart suites (`{"$ref": "cost_categories"}`, suite_refs.py).
A list the pipeline could not run (a category without label or sort order, a duplicate, an id
that is not an identifier) is refused with every problem named, by `kam sources validate`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

CATEGORIES_FILE = DBT_PROJECT_DIR / "seeds" / "cost_categories.csv"
COLUMNS = ("cost_category", "label", "sort_order")
CATEGORY_ID = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_SORT_ORDER = 2**31 - 1  # the seed's sort_order is a dbt `integer` (32 bits)


class CategoryError(ValueError):
    """The category list is invalid; the message names the file, the rows and the problems."""


@dataclass(frozen=True)
class CostCategory:
    id: str
    label: str
    sort_order: int


def shown(path: Path) -> str:
    try:
        return str(path.relative_to(DBT_PROJECT_DIR.parent))
    except ValueError:
        return str(path)


def category_problems(path: Path = CATEGORIES_FILE) -> list[str]:
    """Every problem of the category list; [] when the pipeline can run it."""
    return _read(path)[1]


def load_categories(path: Path = CATEGORIES_FILE) -> tuple[CostCategory, ...]:
    """The categories in file order; CategoryError listing every problem."""
    categories, problems = _read(path)
    if problems:
        raise CategoryError("invalid cost categories:\n  " + "\n  ".join(problems))
    return categories


def _read(path: Path) -> tuple[tuple[CostCategory, ...], list[str]]:
    name = shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return (), [f"{name}: cannot read: {e}"]
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        return (), [f"{name}: header {reader.fieldnames} must be exactly {', '.join(COLUMNS)}"]
    problems: list[str] = []
    found: dict[int, CostCategory] = {}  # row number (1 = first row after the header) -> it
    for row_number, row in enumerate(reader, start=1):
        if None in row or None in row.values():
            problems.append(f"{name} row {row_number}: {len(COLUMNS)} fields expected")
            continue
        category, row_problems = _category(row)
        problems += [f"{name} row {row_number}: {p}" for p in row_problems]
        if category is not None:
            found[row_number] = category
    problems += [f"{name} {p}" for p in _duplicates(found)]
    if not found and not problems:
        problems.append(f"{name}: no category")
    return tuple(found.values()), problems


def _category(row: dict[str, str]) -> tuple[CostCategory | None, list[str]]:
    category_id, label, order = row["cost_category"], row["label"], row["sort_order"].strip()
    problems = []
    if not CATEGORY_ID.match(category_id):
        problems.append(f"cost_category {category_id!r} is not an identifier ([a-z][a-z0-9_]*)")
    if not label.strip():
        problems.append(f"category {category_id!r} has no label")
    if not order:
        problems.append(f"category {category_id!r} has no sort_order")
    elif not order.isdigit() or not 1 <= int(order) <= MAX_SORT_ORDER:
        problems.append(f"sort_order {order!r} of {category_id!r} is not a positive integer")
    if problems:
        return None, problems
    return CostCategory(category_id, label, int(order)), []


def _duplicates(found: dict[int, CostCategory]) -> list[str]:
    """Ids and sort orders must be unique (dbt joins on the id and orders by sort_order)."""
    problems: list[str] = []
    ids: dict[str, int] = {}
    orders: dict[int, int] = {}
    for row, c in found.items():
        if c.id in ids:
            problems.append(f"row {row}: cost_category {c.id!r} is already in row {ids[c.id]}")
        if c.sort_order in orders:
            problems.append(
                f"row {row}: sort_order {c.sort_order} of {c.id!r} is already that of row "
                f"{orders[c.sort_order]}"
            )
        ids.setdefault(c.id, row)
        orders.setdefault(c.sort_order, row)
    return problems


@cache
def cost_categories() -> tuple[str, ...]:
    """The category ids, in the order of the list (CategoryError if it is invalid)."""
    return tuple(c.id for c in load_categories(CATEGORIES_FILE))
