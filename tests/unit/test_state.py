"""The incremental state: every path under data/warehouse/state/, written atomically."""

import json

from orchestration import state


def test_every_state_file_lives_under_the_state_folder(settings):
    paths = [
        state.ledger_file(settings, "invoice_lines"),
        state.pending_file(settings, "invoice_lines"),
        state.scope_file(settings),
        state.taken_file(settings),
        state.built_file(settings),
        state.dirty_file(settings),
        state.last_publication_file(settings),
    ]
    assert all(p.is_relative_to(settings.state_dir) for p in paths)
    assert len(set(paths)) == len(paths)


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "deep" / "built.json"
    assert state.read_json(path, default={}) == {}
    state.write_json_atomic(path, {"a": 1})
    state.write_json_atomic(path, {"b": [1, 2]})
    assert json.loads(path.read_text()) == {"b": [1, 2]} == state.read_json(path)
    assert [p.name for p in path.parent.iterdir()] == ["built.json"]
