"""`kam`: a configuration problem ends any command with its message, never a traceback."""

import pytest
from click.testing import CliRunner

from orchestration.cli.main import main


@pytest.mark.parametrize(
    "args",
    [["rollback"], ["sources", "list"], ["sources", "validate"], ["reset-designations", "--yes"]],
)
def test_a_configuration_problem_ends_the_command_with_its_message(data_root, monkeypatch, args):
    monkeypatch.setenv("KAM_DUCKDB_THREADS", "zwei")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert type(result.exception) is SystemExit  # not a traceback
    assert f"kam {args[0]}: invalid configuration: KAM_DUCKDB_THREADS='zwei' (overrides " in (
        result.output
    )
    assert "duckdb.threads): Input should be a valid integer" in result.output
