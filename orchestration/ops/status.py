"""`kam status`: is the warehouse healthy? Publication, current pointer, last failure, freshness.

Reads only small files (manifests, the tail of failures.jsonl, the lock file) and stats the raw
files: cheap enough for a monitoring probe, and it never takes the refresh lock itself. The one
thing it changes: the leftovers of a killed publication, removed when no refresh holds the lock.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from orchestration.ops.config_check import ConfigState
from orchestration.ops.failures import last_failure
from orchestration.ops.freshness import source_freshness
from orchestration.ops.lock import LOCK_NAME, holder, is_locked
from orchestration.publish.folders import (
    current_publication,
    leftovers,
    publications,
    remove_leftovers,
)
from orchestration.scope.pending import Footprint, read_pending
from orchestration.scope.runs import read_built
from orchestration.settings import ConfigError, ScheduleConfig, Settings, load_schedule
from orchestration.sources.contracts import load_contracts

# A scheduled run that has neither published nor failed this long after its tick is reported.
SILENT_AFTER = 3 * 3600.0
RUNNING_STATES = ("RUNNING", "DECLARED_IN_CODE")


def collect_status(config: ConfigState | Settings, now: float | None = None) -> dict[str, Any]:
    """Everything `kam status` shows; with invalid configuration, the problem and the rest as
    far as the configuration still allows (the data folder always)."""
    if isinstance(config, Settings):
        config = ConfigState(config, None, True)
    settings = config.settings
    now = time.time() if now is None else now
    pubs = publications(settings.published_dir)
    newest = _publication(pubs[-1], now) if pubs else None
    current_path = current_publication(settings.published_dir)
    current = _publication(current_path, now) if current_path else None
    failure = last_failure(settings)
    if failure and newest and newest.get("published_at"):
        failure["after_last_publication"] = failure["time"] > newest["published_at"]
    if failure:
        failure["age_hours"] = _age_hours(failure.get("time"), now)
    refreshing = holder(settings.warehouse_dir / LOCK_NAME)
    # the schedule the daemon keeps to even with other settings invalid (load_schedule)
    schedule = _schedule(settings.schedule if config.settings_valid else load_schedule(), now)
    if not refreshing:
        outcomes = [x.get(k) for x, k in ((newest, "published_at"), (failure, "time")) if x]
        schedule["silent_tick"] = _silent_tick(schedule, [o for o in outcomes if o], now)
    return {
        "data_dir": str(settings.data_dir),
        "config_problem": config.problem,
        "last_publication": newest,
        "current": current,
        "current_is_newest": bool(current and newest and current["name"] == newest["name"]),
        "last_failure": failure,
        "refreshing": refreshing,
        "leftovers": _leftovers(settings),
        "incremental": _incremental(settings),
        "schedule": schedule,
        "freshness": _freshness(settings, now) if config.settings_valid else None,
    }


def _freshness(settings: Settings, now: float) -> list[dict[str, Any]] | None:
    try:
        contracts = load_contracts()
    except ConfigError:  # shown as the configuration problem
        return None
    return [
        source_freshness(settings.raw_dir, c, settings.freshness.max_age_days(name), now).to_dict()
        for name, c in sorted(contracts.items())
    ]


def _leftovers(settings: Settings) -> dict[str, Any] | None:
    """Leftovers of a killed publication, removed when no refresh holds the lock. Listed
    first, the lock seen free after: whoever wrote them has ended (a run holds the lock
    throughout). While a refresh runs they are its publication in the making."""
    found = leftovers(settings.published_dir)
    if not found:
        return None
    names = [_shown(p) for p in found]
    if is_locked(settings.warehouse_dir / LOCK_NAME):
        return {"paths": names, "removed": False}
    remove_leftovers(found)
    return {"paths": names, "removed": True}


def _shown(path: Path) -> str:
    return f"{path.name} -> {os.readlink(path)}" if path.is_symlink() else f"{path.name}/"


def _incremental(settings: Settings) -> dict[str, Any]:
    """What the last published run recomputed, and what waits for the next run."""
    built = read_built(settings)
    pending: Footprint = Footprint()
    for fp in read_pending(settings).values():
        pending.add(fp)
    return {
        "last_scope": built["scope"] if built else None,
        "last_scope_reasons": (built or {}).get("reasons", [])[:5],
        "as_of_date": (built or {}).get("as_of"),
        "pending": pending.to_json() if pending else None,
    }


def _schedule(config: ScheduleConfig, now: float) -> dict[str, Any]:
    """The configured schedule, its next tick, and, with DAGSTER_HOME set, whether the
    instance has it running (a start or stop in the UI overrides `enabled`)."""
    start = datetime.fromtimestamp(now, ZoneInfo(config.timezone))
    next_tick = croniter(config.cron, start).get_next(datetime)
    return {
        "cron": config.cron,
        "timezone": config.timezone,
        "next_run": next_tick.isoformat(),
        "state": _instance_schedule_state() or ("RUNNING" if config.enabled else "STOPPED"),
    }


def _silent_tick(schedule: dict[str, Any], outcomes: list[str], now: float) -> str | None:
    """The last tick the daemon should have run (at least SILENT_AFTER ago), when nothing came
    of it: no publication and no failure recorded since. That is a daemon that is down, or a
    code location that fails to load (no run, so no failure sensor either). Only with
    DAGSTER_HOME set and the schedule running there: without a daemon, no tick is missed."""
    if not os.environ.get("DAGSTER_HOME") or schedule["state"] not in RUNNING_STATES:
        return None
    zone = ZoneInfo(schedule["timezone"])
    tick = croniter(schedule["cron"], datetime.fromtimestamp(now - SILENT_AFTER, zone))
    due = tick.get_prev(datetime)
    if any(_at_or_after(o, due) for o in outcomes):
        return None
    return due.isoformat()


def _at_or_after(iso: str, moment: datetime) -> bool:
    try:
        return datetime.fromisoformat(iso) >= moment
    except (TypeError, ValueError):  # an unreadable time: do not cry wolf
        return True


def _instance_schedule_state() -> str | None:
    if not os.environ.get("DAGSTER_HOME"):
        return None
    try:
        from dagster import DagsterInstance

        with DagsterInstance.get() as instance:
            for state in instance.all_instigator_state():
                if state.name == "nightly_refresh":
                    return state.status.value
    except Exception:  # status must work even when the instance does not
        return None
    return None


def _publication(path: Path, now: float) -> dict[str, Any]:
    info: dict[str, Any] = {"name": path.name, "path": str(path)}
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return info | {"problem": f"manifest.json unreadable: {e}"}
    info["published_at"] = manifest.get("published_at")
    info["age_hours"] = _age_hours(info["published_at"], now)
    info["run_id"] = manifest.get("run_id")
    info["tables"] = {t: _rows(v) for t, v in (manifest.get("tables") or {}).items()}
    return info


def _rows(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, dict):  # a per-month layout may list its parts
        return value.get("rows")
    return None


def _age_hours(iso: str | None, now: float) -> float | None:
    if not iso:
        return None
    try:
        return round((now - datetime.fromisoformat(iso).timestamp()) / 3600, 1)
    except ValueError:
        return None


# ---- the text for a person ----------------------------------------------------------------


def render(status: dict[str, Any]) -> str:
    lines = [f"warehouse     {status['data_dir']}"]
    if problem := status["config_problem"]:
        first, *more = problem.splitlines()
        lines.append(f"config        INVALID: {first}")
        lines += [f"              {line.strip()}" for line in more]
    newest, current = status["last_publication"], status["current"]
    if newest is None:
        lines.append("publication   none yet: nothing was ever published (run `kam refresh`)")
    else:
        lines.append(
            f"publication   {newest['name']}  {_when(newest.get('published_at'))}"
            f"  ({_ago(newest.get('age_hours'))})"
        )
        if current is None:
            lines.append("current       MISSING: published/current points nowhere")
        elif status["current_is_newest"]:
            lines.append("current       -> the newest publication")
        else:
            lines.append(
                f"current       -> {current['name']}  NOT the newest (rolled back?), "
                f"published {_when(current.get('published_at'))}"
            )
    lines += _failure_lines(status["last_failure"])
    sched = status["schedule"]
    lines.append(
        f"schedule      {sched['state'].lower()}: '{sched['cron']}' {sched['timezone']}, "
        f"next {_in_zone(sched['next_run'], sched['timezone'])}"
    )
    if silent := sched.get("silent_tick"):
        lines.append(
            f"              NOTHING came of the run due {_in_zone(silent, sched['timezone'])}: no "
            "publication, no failure recorded; is the daemon running, does the code location load?"
        )
    if h := status["refreshing"]:
        lines.append(
            f"refreshing    now: pid {h.get('pid')}, since {_when(h.get('started_at'))}"
            f", by {h.get('started_by')}"
        )
    if left := status["leftovers"]:
        lines.append(
            "leftovers     removed, of a killed publication: " + ", ".join(left["paths"])
            if left["removed"]
            else "publishing    now: " + ", ".join(left["paths"])
        )
    lines += _incremental_lines(status["incremental"])
    if current and current.get("tables"):
        lines.append("rows (current)")
        lines += _two_columns([(t, _n(n)) for t, n in current["tables"].items()])
    if status["freshness"] is None:
        lines.append("freshness     unknown while the configuration is invalid")
        return "\n".join(lines)
    rows = [("source", "newest drop", "age", "limit", "status")] + [
        (
            f["source"],
            _when(f["newest_mtime"]) or "-",
            "-" if f["age_days"] is None else _ago(f["age_days"] * 24).removesuffix(" ago"),
            "-" if f["max_age_days"] is None else f"{f['max_age_days']:g} d",
            f["status"],
        )
        for f in status["freshness"]
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, r in enumerate(rows):
        label = "freshness" if i == 0 else ""
        lines.append(
            f"{label:<14}{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"
            f"  {r[3]:>{widths[3]}}  {r[4]}"
        )
    return "\n".join(lines)


def _incremental_lines(inc: dict[str, Any]) -> list[str]:
    scope = inc["last_scope"]
    if scope is None:
        lines = ["last build    none: the next refresh rebuilds every month"]
    elif scope["full"]:
        why = "; ".join(inc["last_scope_reasons"]) or "requested"
        lines = [f"last build    full rebuild ({why}), as-of {inc['as_of_date']}"]
    else:
        months = ", ".join(m[:7] for m in scope["months"]) or "no month changed"
        lines = [
            f"last build    {len(scope['months'])} month(s): {months}; as-of {inc['as_of_date']}"
        ]
    pending = inc["pending"]
    if pending is None:
        lines.append("pending       nothing: no change since the last publication")
    elif pending["full"]:
        lines.append("pending       a full rebuild (" + "; ".join(pending["reasons"][:3]) + ")")
    else:
        parts = [m[:7] for m in pending["months"]]
        if pending["open_from"]:
            parts.append(f"{pending['open_from'][:7]}..latest")
        if pending["customers"]:
            parts.append(f"months of {len(pending['customers'])} changed customer(s)")
        lines.append("pending       " + ", ".join(parts) + " (recomputed by the next run)")
    return lines


def _failure_lines(failure: dict[str, Any] | None) -> list[str]:
    if failure is None:
        return ["last failure  none recorded"]
    relation = ""
    if "after_last_publication" in failure:
        relation = (
            ", after the last publication"
            if failure["after_last_publication"]
            else ", before the last publication"
        )
    run = f"run {failure['run_id'][:8]}" if failure.get("run_id") else "before any run"
    steps = ", ".join(failure.get("failed_steps") or [])
    lines = (failure.get("error") or "").strip().splitlines()
    first = lines[0][:200] if lines else "no error message"
    if steps and not first.startswith(("step ", "check ")):
        first = f"step {steps}: {first}"
    return [
        f"last failure  {_when(failure.get('time'))}  ({_ago(failure.get('age_hours'))}"
        f"{relation})  {run}",
        f"              {first}",
    ]


def _two_columns(pairs: list[tuple[str, str]]) -> list[str]:
    half = (len(pairs) + 1) // 2
    left, right = pairs[:half], pairs[half:]
    wn = max(len(t) for t, _ in pairs)
    wv = max(len(v) for _, v in pairs)
    out = []
    for i, (t, v) in enumerate(left):
        line = f"  {t:<{wn}} {v:>{wv}}"
        if i < len(right):
            line += f"    {right[i][0]:<{wn}} {right[i][1]:>{wv}}"
        out.append(line)
    return out


def _when(iso: str | None) -> str:
    """An ISO time as local time (the machine's timezone), to the minute."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    except ValueError:
        return iso


def _in_zone(iso: str, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _ago(hours: float | None) -> str:
    if hours is None:
        return "age unknown"
    return f"{hours:.1f} h ago" if hours < 48 else f"{hours / 24:.1f} d ago"


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
