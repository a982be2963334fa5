"""The one cost-category list (dbt seed cost_categories.csv): what the pipeline can run, and
every problem of a list it could not, named with the row."""

import pytest

from orchestration.sources.categories import (
    CATEGORIES_FILE,
    CategoryError,
    category_problems,
    cost_categories,
    load_categories,
)

HEADER = "cost_category,label,sort_order\n"


def test_the_shipped_list_has_the_14_categories_in_report_order():
    categories = load_categories()
    assert len(categories) == 14 and category_problems() == []
    assert cost_categories() == tuple(c.id for c in categories)
    assert categories[0].id == "quotation_preparation" and categories[0].sort_order == 1
    assert [c.sort_order for c in categories] == list(range(1, 15))


def test_a_15th_category_is_a_row(tmp_path):
    path = tmp_path / "cost_categories.csv"
    path.write_text(CATEGORIES_FILE.read_text() + "trade_fairs,Trade fairs and events,15\n")
    assert load_categories(path)[-1].label == "Trade fairs and events"


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ("samples,,15\n", "row 2: category 'samples' has no label"),
        ("samples,Samples,\n", "row 2: category 'samples' has no sort_order"),
        ("samples,Samples,1.5\n", "row 2: sort_order '1.5' of 'samples' is not a positive integer"),
        ("samples,Samples,0\n", "row 2: sort_order '0' of 'samples' is not a positive integer"),
        ("Samples 2,Samples,15\n", "row 2: cost_category 'Samples 2' is not an identifier"),
        ("training,Training again,15\n", "row 2: cost_category 'training' is already in row 1"),
        ("samples,Samples,11\n", "row 2: sort_order 11 of 'samples' is already that of row 1"),
        ("samples,Samples,15,x\n", "row 2: 3 fields expected"),
        ("samples,Samples\n", "row 2: 3 fields expected"),
    ],
)
def test_a_list_the_pipeline_cannot_run_is_refused_with_the_reason(tmp_path, rows, problem):
    path = tmp_path / "cost_categories.csv"
    path.write_text(HEADER + "training,Training,11\n" + rows)
    [found] = category_problems(path)
    assert found.startswith(str(path)) and problem in found
    with pytest.raises(CategoryError, match="invalid cost categories"):
        load_categories(path)


def test_a_wrong_header_or_an_empty_list_is_refused(tmp_path):
    path = tmp_path / "cost_categories.csv"
    path.write_text("category,label,sort_order\ntraining,Training,1\n")
    assert "must be exactly cost_category, label, sort_order" in category_problems(path)[0]
    path.write_text(HEADER)
    assert category_problems(path) == [f"{path}: no category"]
