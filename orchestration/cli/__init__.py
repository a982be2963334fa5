"""`kam`: the command line of kam-warehouse (commands in main.py, the refresh run in runner.py)."""

from orchestration.cli.main import main, run

__all__ = ["main", "run"]
