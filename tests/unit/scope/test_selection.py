"""Which dbt nodes a scoped run leaves alone: those no changed source reaches."""

import json

from orchestration.scope.runs import commit_run
from orchestration.scope.selection import (
    decide_selection,
    everything,
    kam_config_fingerprint,
    mark_dirty,
)

P = "model.kam_warehouse."
T = "test.kam_warehouse."
INVOICES = "source.kam_warehouse.erp.invoice_lines"
CUSTOMERS = "source.kam_warehouse.erp.customers"
LOG = "source.kam_warehouse.kam_history.designation_log"


def node(name: str, kind: str = "model") -> dict:
    return {"name": name, "resource_type": kind}


# invoices -> stg_invoices -> revenue -> kav; customers -> stg_customers -> accounts, revenue;
# the designation log -> designations; a test on stg_customers, one on revenue and accounts.
MANIFEST = {
    "sources": {INVOICES: {}, CUSTOMERS: {}, LOG: {}},
    "nodes": {
        P + "stg_invoices": node("stg_invoices"),
        P + "stg_customers": node("stg_customers"),
        P + "revenue": node("revenue"),
        P + "accounts": node("accounts"),
        P + "kav": node("kav"),
        P + "designations": node("designations"),
        T + "unique_customers": node("unique_customers", "test"),
        T + "revenue_matches_accounts": node("revenue_matches_accounts", "test"),
    },
    "child_map": {
        INVOICES: [P + "stg_invoices"],
        CUSTOMERS: [P + "stg_customers"],
        LOG: [P + "designations"],
        P + "stg_invoices": [P + "revenue"],
        P + "stg_customers": [P + "revenue", P + "accounts", T + "unique_customers"],
        P + "revenue": [P + "kav", T + "revenue_matches_accounts"],
        P + "accounts": [T + "revenue_matches_accounts"],
    },
    "parent_map": {
        P + "stg_invoices": [INVOICES],
        P + "stg_customers": [CUSTOMERS],
        P + "revenue": [P + "stg_invoices", P + "stg_customers"],
        P + "accounts": [P + "stg_customers"],
        P + "kav": [P + "revenue"],
        P + "designations": [LOG],
        T + "unique_customers": [P + "stg_customers"],
        T + "revenue_matches_accounts": [P + "revenue", P + "accounts"],
    },
}


def built(settings) -> dict:
    return {"kam_config": kam_config_fingerprint(settings)}


def test_a_drop_of_invoices_leaves_the_customer_branch_alone(settings):
    sel = decide_selection(
        settings, MANIFEST, full=False, changed_sources=["invoice_lines"], built=built(settings)
    )
    # A test with one changed parent runs (revenue_matches_accounts); the designation log is
    # rewritten by every publication, so what reads it always runs.
    assert sel.unchanged == {P + "stg_customers", P + "accounts", T + "unique_customers"}
    assert sel.exclude_args(MANIFEST)[:2] == [
        "--exclude",
        "accounts stg_customers unique_customers",
    ]
    assert sel.exclude_args(MANIFEST, "resource_type:unit_test")[1].startswith(
        "resource_type:unit_test accounts"
    )
    assert everything("x").exclude_args(MANIFEST) == []
    assert "invoice_lines" in sel.reason and "3 node(s)" in sel.reason


def test_a_test_with_a_rebuilt_parent_is_never_excluded_with_an_unchanged_one(settings):
    """dbt's default (eager) exclusion drops every test reading an excluded model; the
    selection names each test it leaves alone and has dbt exclude nothing more."""
    sel = decide_selection(
        settings, MANIFEST, full=False, changed_sources=["invoice_lines"], built=built(settings)
    )
    assert T + "revenue_matches_accounts" not in sel.unchanged  # reads revenue and accounts
    assert sel.exclude_args(MANIFEST)[-2:] == ["--indirect-selection", "empty"]
    assert "--indirect-selection" not in everything("full").exclude_args(MANIFEST, "x")


def test_changed_master_data_reaches_everything_downstream(settings):
    sel = decide_selection(
        settings, MANIFEST, full=False, changed_sources=["customers"], built=built(settings)
    )
    assert sel.unchanged == {P + "stg_invoices"}


def test_no_change_rebuilds_only_what_reads_the_designation_log(settings):
    sel = decide_selection(
        settings, MANIFEST, full=False, changed_sources=[], built=built(settings)
    )
    assert P + "designations" not in sel.unchanged and len(sel.unchanged) == 7


def test_everything_is_built_when_nothing_can_be_trusted(settings):
    def decide(**kw):
        args = {"full": False, "changed_sources": ["invoice_lines"], "built": built(settings)}
        return decide_selection(settings, MANIFEST, **(args | kw))

    assert not decide(full=True).unchanged
    assert not decide(built=None).unchanged
    sel = decide(built={"kam_config": "an older scoring matrix"})
    assert not sel.unchanged and "scoring or lifecycle configuration" in sel.reason
    sel = decide(changed_sources=["invoice_lines", "telemetry"])
    assert not sel.unchanged and "telemetry" in sel.reason
    # Months asked for by a backfill or left by a run that did not publish: not a source.
    sel = decide(changed_sources=["_unpublished", "invoice_lines"])
    assert not sel.unchanged and "_unpublished" in sel.reason
    # A dbt build that did not reach a publication: its nodes may be half rebuilt.
    mark_dirty(settings, decide())
    sel = decide()
    assert not sel.unchanged and "not published" in sel.reason


def test_a_publication_clears_the_unpublished_mark(settings):
    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    decision = {"taken": {}, "fingerprints": {}, "as_of": None, "latest": None}
    decision |= {"scope": {}, "reasons": []}
    (state / "scope_taken.json").write_text(json.dumps(decision | {"kam_config": "abc"}))
    mark_dirty(
        settings, decide_selection(settings, MANIFEST, full=True, changed_sources=[], built=None)
    )
    commit_run(settings, "pub-1")
    assert not (state / "dbt_unpublished.json").exists()
    assert json.loads((state / "built.json").read_text())["kam_config"] == "abc"
