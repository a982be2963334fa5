"""What a run leaves for the next: the scope of a run that did not publish stays pending."""

from datetime import date

from orchestration.scope.pending import Footprint, add_pending, read_pending
from orchestration.scope.run_scope import RunScope, read_scope, write_scope
from orchestration.scope.runs import UNPUBLISHED, carry_unpublished, commit_run, widen_to_full
from orchestration.state import taken_file, write_json_atomic

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


def decided(settings, scope: RunScope, taken: dict | None = None) -> None:
    """The decision a run writes (runs.decide_scope) before dbt starts."""
    decision = {"scope": scope.dbt_var(), "reasons": [], "as_of": None, "latest": None}
    decision |= {"taken": taken or {}, "fingerprints": {}, "kam_config": "k", "run_id": "abcdef123"}
    write_json_atomic(taken_file(settings), decision)


def test_the_months_of_a_run_that_did_not_publish_stay_pending(settings):
    decided(settings, RunScope.of_months([JAN, FEB]))
    carry_unpublished(settings)
    carried = read_pending(settings)[UNPUBLISHED]
    assert carried.months == {JAN, FEB} and not carried.full
    assert carried.reasons == [
        "run abcdef12 did not publish: its months again (2025-01..2025-02 (2 month(s)))"
    ]


def test_a_full_rebuild_that_did_not_publish_makes_the_next_run_full(settings):
    decided(settings, RunScope.everything())
    carry_unpublished(settings)
    carried = read_pending(settings)[UNPUBLISHED]
    assert carried.full and "rebuilt every month and did not publish" in carried.reasons[0]


def test_nothing_is_carried_after_a_publication(settings):
    add_pending(settings, "invoice_lines", Footprint(months={JAN}, reasons=["new file"]))
    decided(settings, RunScope.of_months([JAN]), taken={"invoice_lines": None})
    carry_unpublished(settings)  # the run decided, then failed: its months stay pending
    from orchestration.scope.runs import _content_hash

    taken = {n: _content_hash(settings, n) for n in ("invoice_lines", UNPUBLISHED)}
    decided(settings, RunScope.of_months([JAN]), taken=taken)  # the next run took both
    commit_run(settings, "pub-2")
    assert read_pending(settings) == {}
    assert not (settings.state_dir / "scope_taken.json").exists()
    carry_unpublished(settings)
    assert read_pending(settings) == {}


def test_a_month_scope_turned_full_is_full_in_the_decision_too(settings):
    decided(settings, RunScope.of_months([JAN]))
    write_scope(settings, RunScope.of_months([JAN]))
    widen_to_full(settings, "no working database")
    assert read_scope(settings).full
    carry_unpublished(settings)  # and the run fails: the next one is full as well
    assert read_pending(settings)[UNPUBLISHED].full
