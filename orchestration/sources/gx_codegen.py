"""The Great Expectations suite of a declared source, generated from its column rules."""

from __future__ import annotations

from orchestration.sources.categories import cost_categories
from orchestration.sources.contracts import CategoryRule, SourceContract


def gx_suite(contract: SourceContract) -> dict:
    """The GX suite of a declared source, from its column rules: required -> not null, min/max
    -> between, allowed -> in set, unique key -> unique, mapped category values -> in the map."""
    exps: list[dict] = []
    for c in contract.columns:
        if c.required:
            exps.append(
                {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": c.name}}
            )
        if c.min is not None or c.max is not None:
            exps.append(
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {
                        "column": c.name,
                        "min_value": c.min,
                        "max_value": c.max,
                        "strict_min": c.min_exclusive,
                    },
                }
            )
        if c.allowed:
            exps.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": c.name, "value_set": list(c.allowed)},
                }
            )
        if c.type == "cost_category":
            exps.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": c.name, "value_set": list(cost_categories())},
                }
            )
    if len(contract.unique_key) == 1:
        exps.append(
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": contract.unique_key[0]},
            }
        )
    else:
        exps.append(
            {
                "type": "expect_compound_columns_to_be_unique",
                "kwargs": {"column_list": list(contract.unique_key)},
            }
        )
    cat = contract.cost.category if contract.cost else None
    if isinstance(cat, CategoryRule) and cat.map:
        exps.append(
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": cat.column, "value_set": list(cat.map)},
            }
        )
    return {
        "name": f"source_{contract.name}",
        "meta": {
            "generated_from": f"sources/{contract.name}.yml",
            # decided on one compact row of counts (orchestration/checks/reduction.py); a
            # failure shows offending rows by key, raw file and row
            "reduction": {
                "group_by": [],
                "sample_columns": [*contract.unique_key, "_source_file", "_source_row"],
            },
        },
        "expectations": exps,
    }
