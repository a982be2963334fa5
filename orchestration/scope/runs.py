"""Decide a run's scope, and record a successful run.

The scope (scope.py) is full when there is no complete build yet, when the configuration or
code that shapes every month changed since the last build (dbt project, source declarations,
activity catalogue, reporting currency, as-of setting, ingest code), or when a pending change
asks for it. Otherwise it is the union of:
- the pending months of every source (pending.py), open-ended ones through the latest month;
- every month with facts of a customer whose master data changed;
- the months between the previous and the new as-of date (open receivables accrue up to it);
- months asked for by `kam backfill`.

`warehouse/state/built.json` records the last run that published: the configuration
fingerprint, as-of date and latest month it was built with. The pending records the run took
into its scope are removed only then (commit_run), so a failed run leaves them for the next.

A run that decided its scope and did not publish (a failed check, a kill, a crash) may have
left any month of that scope half-recomputed in the working database, with inputs that have
changed since (a corrected file, a reverted configuration). Its decision (scope_taken.json) is
still there when the next run decides: that scope becomes a pending record of its own
(`_unpublished`: a full scope stays full), so the next run recomputes at least everything the
failed one may have touched, and it is forgotten like any pending record, with a publication.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.duck import connect, quote_ident, quote_literal
from orchestration.scope.pending import (
    Footprint,
    add_pending,
    clear_pending,
    footprint_of,
    month_range,
    read_pending,
)
from orchestration.scope.run_scope import RunScope, write_scope
from orchestration.scope.selection import clear_dirty, kam_config_fingerprint
from orchestration.settings import (
    AS_OF_LATEST_DATA,
    DBT_PROJECT_DIR,
    SOURCES_DIR,
    Settings,
)
from orchestration.sources.contracts import AffectsMonths, SourceContract, load_contracts
from orchestration.state import (
    INGEST_VERSION,
    built_file,
    pending_file,
    read_json,
    taken_file,
    write_json_atomic,
)

INVOICES = "invoice_lines"
# Pending record of the scopes of runs that did not publish (see the module docstring).
UNPUBLISHED = "_unpublished"
# What shapes every month: a change here rebuilds everything. (The scoring and lifecycle
# configuration only feed marts that are rebuilt in full on every run anyway.)
DBT_INPUTS = ("models", "macros", "seeds", "tests", "dbt_project.yml")


@dataclass
class ScopeDecision:
    scope: RunScope
    reasons: list[str]
    as_of: date | None
    latest: date | None
    taken: dict[str, str] = field(default_factory=dict)  # pending record -> its content hash


def config_fingerprints(settings: Settings) -> dict[str, str]:
    """One hash per input that shapes every month, so a change can be named."""

    def tree(*paths: Path) -> str:
        h = hashlib.blake2b(digest_size=12)
        for root in paths:
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            for p in files:
                h.update(str(p.relative_to(root.parent)).encode() + b"\0" + p.read_bytes())
        return h.hexdigest()

    return {
        "dbt project": tree(*(DBT_PROJECT_DIR / name for name in DBT_INPUTS)),
        "source declarations": tree(SOURCES_DIR),
        "activity catalogue": tree(settings.activity_rates_file),
        "reporting currency": settings.reporting_currency,
        "as-of setting": settings.as_of_date,
        "ingest code": INGEST_VERSION,
    }


def read_built(settings: Settings) -> dict | None:
    return read_json(built_file(settings))


def decide_scope(settings: Settings, run_id: str | None = None) -> ScopeDecision:
    """Compute the scope of this run and write it (scope.json) for dbt, checks and publish."""
    carry_unpublished(settings)
    contracts = load_contracts()
    built = read_built(settings)
    fingerprints = config_fingerprints(settings)
    pending = read_pending(settings)
    taken = {name: _content_hash(settings, name) for name in pending}
    con = connect(settings)
    try:
        as_of = _as_of(con, settings)
        latest = _latest_month(con, settings, contracts, as_of)
        reasons: list[str] = []
        if built is None:
            reasons.append("no complete build yet")
        else:
            changed = [k for k, v in fingerprints.items() if built["fingerprints"].get(k) != v]
            reasons += [f"{k} changed since the last build" for k in changed]
        reasons += [r for fp in pending.values() if fp.full for r in fp.reasons]
        if reasons:
            scope = RunScope.everything()
        else:
            assert built is not None
            months = _months(con, settings, contracts, pending, built, as_of, latest, reasons)
            scope = RunScope.of_months(months)
    finally:
        con.close()
    write_scope(settings, scope)
    decision = ScopeDecision(scope, reasons, as_of, latest, taken)
    decided = _decision_json(decision, fingerprints) | {
        "kam_config": kam_config_fingerprint(settings),
        "run_id": run_id,
    }
    write_json_atomic(taken_file(settings), decided)
    return decision


def carry_unpublished(settings: Settings) -> None:
    """Keep the scope of a run that decided one and did not publish as pending (see above)."""
    decision = read_json(taken_file(settings))
    if decision is None:
        return
    scope = RunScope.from_json(json.dumps(decision["scope"]))
    run = f"run {decision['run_id'][:8]}" if decision.get("run_id") else "a run"
    if scope.full:
        why = f"{run} rebuilt every month and did not publish (its build may be half done)"
        footprint = Footprint(full=True, reasons=[why])
    else:
        why = f"{run} did not publish: its months again ({scope.describe()})"
        footprint = Footprint(months=set(scope.months), reasons=[why])
    add_pending(settings, UNPUBLISHED, footprint)


def widen_to_full(settings: Settings, reason: str) -> RunScope:
    """Turn this run's month scope into a full one after it was decided (no working database):
    in scope.json for dbt, checks and publication, and in the decision, so that a failure from
    here on leaves a full scope pending for the next run."""
    scope = RunScope.everything()
    write_scope(settings, scope)
    decision = read_json(taken_file(settings))
    if decision is not None:
        decision["scope"] = scope.dbt_var()
        decision["reasons"].append(reason)
        write_json_atomic(taken_file(settings), decision)
    return scope


def changed_sources(settings: Settings) -> list[str]:
    """The sources whose pending changes this run took into its scope."""
    decision = read_json(taken_file(settings))
    return [] if decision is None else sorted(decision["taken"])


def _months(
    con,
    settings: Settings,
    contracts: dict[str, SourceContract],
    pending: dict[str, Footprint],
    built: dict,
    as_of: date | None,
    latest: date | None,
    reasons: list[str],
) -> set[date]:
    merged = Footprint()
    for fp in pending.values():
        merged.add(fp)
    reasons += merged.reasons
    if merged.customers:
        merged.add(_customer_facts(con, settings, contracts, merged.customers))
        reasons.append(f"master data of {len(merged.customers)} customer(s) changed")
    months = set(merged.months)
    last = max(filter(None, [latest, _date(built.get("latest"))]), default=None)
    if merged.open_from is not None and last is not None:
        months |= set(month_range(merged.open_from, last))
    old_as_of = _date(built.get("as_of"))
    if as_of != old_as_of and as_of is not None and old_as_of is not None:
        first, second = sorted([as_of, old_as_of])
        months |= set(month_range(first, second))
        reasons.append(f"as-of date moved from {old_as_of} to {as_of}")
    return months


def _customer_facts(
    con, settings: Settings, contracts: dict[str, SourceContract], customers: set[str]
) -> Footprint:
    """Footprint of every fact row of these customers, in every source that references them."""
    ids = "[" + ", ".join(quote_literal(c) for c in sorted(customers)) + "]"
    total = Footprint()
    for contract in contracts.values():
        if not isinstance(contract.months_rule, AffectsMonths) or contract.months_rule.customers:
            continue
        for ref in contract.references:
            if ref.source != "customers" or "customer_id" not in ref.target_columns:
                continue
            glob = quote_literal(settings.accepted_glob(contract.name))
            rows = (
                f"SELECT * FROM read_parquet({glob}) "
                f"WHERE list_contains({ids}, {quote_ident(ref.column)})"
            )
            total.add(
                footprint_of(con, contract, rows, f"facts of changed customers in {contract.name}")
            )
    return total


def _as_of(con, settings: Settings) -> date | None:
    """The date open receivables accrue financing up to (see dbt macro as_of_date_sql)."""
    if settings.as_of_date != AS_OF_LATEST_DATA:
        return date.fromisoformat(settings.as_of_date)
    glob = quote_literal(settings.accepted_glob(INVOICES))
    return con.execute(
        "SELECT max(greatest(invoice_date, coalesce(payment_date, invoice_date))) "
        f"FROM read_parquet({glob})"
    ).fetchone()[0]


def _latest_month(
    con, settings: Settings, contracts: dict[str, SourceContract], as_of: date | None
) -> date | None:
    """The last month any dated fact (or the as-of date) falls in: open-ended footprints run
    through it."""
    latest = [as_of] if as_of else []
    for c in contracts.values():
        rule = c.months_rule
        if isinstance(rule, AffectsMonths) and rule.from_:
            glob = quote_literal(settings.accepted_glob(c.name))
            latest.append(
                con.execute(
                    f"SELECT max({quote_ident(rule.from_)}) FROM read_parquet({glob})"
                ).fetchone()[0]
            )
    found = [d for d in latest if d is not None]
    return max(found).replace(day=1) if found else None


def commit_run(settings: Settings, publication: str) -> None:
    """The run published: forget the pending records it took, record what it was built with."""
    path = taken_file(settings)
    decision = read_json(path)
    if decision is None:
        return
    taken = decision["taken"]
    # A record that changed after the scope was decided (not possible within one run: ingest
    # comes first) would be kept for the next run rather than lost.
    clear_pending(settings, [n for n, h in taken.items() if _content_hash(settings, n) == h])
    built = {
        "fingerprints": decision["fingerprints"],
        "as_of": decision["as_of"],
        "latest": decision["latest"],
        "scope": decision["scope"],
        "reasons": decision["reasons"],
        "kam_config": decision.get("kam_config"),
        "publication": publication,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_json_atomic(built_file(settings), built)
    path.unlink()
    clear_dirty(settings)


def reset_warehouse(settings: Settings) -> None:
    """Forget everything ingested and built: the next run parses every raw file and rebuilds
    every month. Publications, the designation history and the logs are kept."""
    import shutil

    for path in (
        settings.ingested_dir,
        settings.quarantine_dir,
        settings.state_dir,
        settings.config_dir,
        settings.data_docs_dir,
    ):
        shutil.rmtree(path, ignore_errors=True)
    for db in settings.warehouse_dir.glob(settings.warehouse_db.name + "*"):
        db.unlink()
    settings.ensure_dirs()


def _decision_json(d: ScopeDecision, fingerprints: dict[str, str]) -> dict:
    return {
        "scope": d.scope.dbt_var(),
        "reasons": d.reasons,
        "as_of": d.as_of.isoformat() if d.as_of else None,
        "latest": d.latest.isoformat() if d.latest else None,
        "taken": d.taken,
        "fingerprints": fingerprints,
    }


def _content_hash(settings: Settings, name: str) -> str | None:
    path = pending_file(settings, name)
    return hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest() if path.exists() else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
