"""Compare two publications table by table, row by row.

    python scripts/compare_publications.py A B [--ignore TABLE.COLUMN ...]

Every published Parquet table (single files and month folders) is read whole and compared as a
multiset of rows (EXCEPT ALL both ways), with the same columns in the same order and types
(orchestration/publish/compare.py). Exit code 1 and the differing tables when they differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from orchestration.publish.compare import compare

if __name__ == "__main__":
    args = sys.argv[1:]
    ignore: dict[str, set[str]] = {}
    while "--ignore" in args:
        i = args.index("--ignore")
        table, column = args[i + 1].split(".", 1)
        ignore.setdefault(table, set()).add(column)
        del args[i : i + 2]
    problems = compare(Path(args[0]).resolve(), Path(args[1]).resolve(), ignore, report=print)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
