"""What the dbt manifest says (marts, month-partitioned marts, node order) and dbt's parse state."""

import json

from orchestration.transform.manifest import (
    is_stale,
    keep_partial_parse,
    mart_models,
    partitioned_marts,
    topological,
)
from tests.unit.scope.test_selection import MANIFEST


def test_nodes_come_parents_first_in_a_stable_order():
    order = topological(MANIFEST, frozenset(MANIFEST["nodes"]))
    assert sorted(order) == sorted(MANIFEST["nodes"])
    for child, parents in MANIFEST["parent_map"].items():
        for parent in parents:
            if parent in MANIFEST["nodes"]:
                assert order.index(parent) < order.index(child)
    assert order == topological(MANIFEST, frozenset(reversed(list(MANIFEST["nodes"]))))


def test_marts_and_their_month_partitions_come_from_the_manifest(tmp_path):
    def model(name, folder, meta=None):
        return {
            "name": name,
            "resource_type": "model",
            "fqn": ["kam_warehouse", folder, name],
            "config": {"meta": meta or {}},
        }

    nodes = [
        model("stg_x", "staging"),
        model("int_y", "intermediate"),
        model("cost_lines", "marts", {"partition_by": "month"}),
        model("accounts", "marts"),
    ]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": {f"model.k.{n['name']}": n for n in nodes}}))
    assert mart_models(path) == ["accounts", "cost_lines"]
    assert partitioned_marts(path) == {"cost_lines": "month"}


def test_the_manifest_is_stale_when_a_dbt_file_is_newer(tmp_path):
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "a.sql"
    model.write_text("select 1")
    manifest = tmp_path / "target" / "manifest.json"
    assert is_stale(tmp_path, manifest)
    manifest.parent.mkdir()
    manifest.write_text("{}")
    assert not is_stale(tmp_path, manifest)
    later = manifest.stat().st_mtime + 10
    import os

    os.utime(model, (later, later))
    assert is_stale(tmp_path, manifest)


def test_a_runs_parse_state_becomes_the_next_runs_starting_point(tmp_path):
    (tmp_path / "target").mkdir()
    run_target = tmp_path / "target" / "run-1"
    run_target.mkdir()
    keep_partial_parse(run_target, tmp_path / "target")  # nothing written by dbt: nothing to keep
    assert not (tmp_path / "target" / "partial_parse.msgpack").exists()
    (run_target / "partial_parse.msgpack").write_bytes(json.dumps({"run": 1}).encode())
    keep_partial_parse(run_target, tmp_path / "target")
    assert (tmp_path / "target" / "partial_parse.msgpack").read_bytes() == b'{"run": 1}'
    assert [p.name for p in (tmp_path / "target").iterdir() if p.is_file()] == [
        "partial_parse.msgpack"
    ]
