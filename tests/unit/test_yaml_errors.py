"""File, line and key of a problem in a YAML configuration file."""

import pytest
import yaml

from orchestration.yaml_errors import describe_yaml_error, where_key

DOC = """\
reporting_currency: CHF
duckdb:
  memory_limit: 1GB
  threads: zwei
criteria:
  - criterion: tenure
    weight: 0.5
  - criterion: solvency
    weight: 0.5
reporting_currency: EUR
"""


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("duckdb", "threads"), "line 4: duckdb.threads"),
        (("criteria", 1, "weight"), "line 9: criteria.1.weight"),
        (("criteria", "1", "criterion"), "line 8: criteria.1.criterion"),
        (("duckdb", "temp_directory"), "line 2: duckdb.temp_directory"),  # missing: its parent
        (("reporting_currency",), "line 10: reporting_currency"),  # repeated: the last one wins
        (("criteria", 5), "line 5: criteria.5"),
    ],
)
def test_a_key_is_shown_at_its_line(tmp_path, loc, expected):
    path = tmp_path / "x.yml"
    path.write_text(DOC, encoding="utf-8")
    assert where_key(path, loc) == f"{path}, {expected}"


def test_without_a_line_the_file_and_the_key(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("a: [", encoding="utf-8")
    assert where_key(path, ("a",)) == f"{path}: a"
    assert where_key(tmp_path / "missing.yml", ()) == f"{tmp_path / 'missing.yml'}: (top)"


def test_a_syntax_error_is_shown_at_its_line_and_column_with_its_context(tmp_path):
    path = tmp_path / "x.yml"
    text = DOC.replace("  threads: zwei", "  threads: 2\n bad: [unclosed")
    with pytest.raises(yaml.YAMLError) as e:
        yaml.safe_load(text)
    assert describe_yaml_error(path, e.value) == (
        f"{path}, line 5, column 2: not valid YAML: expected <block end>, but found "
        "'<block mapping start>' (while parsing a block mapping at line 1)"
    )
