"""The run scope: ranges of consecutive months for SQL, people and dbt; never a long list."""

import json
from datetime import date

from orchestration.scope.pending import month_range
from orchestration.scope.run_scope import RunScope, month_label, read_scope, write_scope

JAN, FEB, MAR, DEC = (date(2025, m, 1) for m in (1, 2, 3, 12))


def test_consecutive_months_become_one_range():
    scope = RunScope.of_months([MAR, JAN, DEC, FEB, date(2025, 2, 14)])
    assert scope.ranges() == [(JAN, MAR), (DEC, DEC)]
    assert scope.describe() == "2025-01..2025-03, 2025-12 (4 month(s))"
    assert scope.sql_filter("m") == (
        "((m >= DATE '2025-01-01' AND m < DATE '2025-04-01') OR "
        "(m >= DATE '2025-12-01' AND m < DATE '2026-01-01'))"
    )
    assert RunScope.everything().sql_filter("m") == "true"
    assert RunScope.of_months([]).sql_filter("m") == "false"
    assert RunScope.of_months([]).describe() == "no month"


def test_a_two_digit_year_scope_stays_small_everywhere_but_in_its_month_list(settings):
    """16.12.25 read as year 0025, unpaid: every month from 0025-12 through 2025-12."""
    scope = RunScope.of_months(month_range(date(25, 12, 1), DEC))
    assert len(scope.months) == 24_001
    assert scope.describe() == "0025-12..2025-12 (24001 month(s))"
    assert len(scope.sql_filter("month")) < 100
    write_scope(settings, scope)
    stored = json.loads((settings.state_dir / "scope.json").read_text())
    assert stored["ranges"] == [{"from": "0025-12-01", "before": "2026-01-01"}]
    assert read_scope(settings) == scope
    assert month_label(date(25, 12, 1)) == "0025-12"


def test_december_9999_has_no_month_after_it():
    scope = RunScope.of_months(month_range(date(9999, 11, 1), date(9999, 12, 31)))
    assert scope.ranges() == [(date(9999, 11, 1), date(9999, 12, 1))]
    assert scope.sql_filter("m") == "((m >= DATE '9999-11-01'))"
    assert json.loads(scope.to_json())["ranges"] == [{"from": "9999-11-01", "before": None}]


def test_no_scope_file_means_a_full_rebuild(settings):
    assert read_scope(settings) == RunScope.everything()
    write_scope(settings, RunScope.of_months([JAN]))
    assert read_scope(settings).covers(JAN) and not read_scope(settings).covers(FEB)
