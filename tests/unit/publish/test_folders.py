"""Publication folders: the atomic `current` switch, what counts as a publication, pruning,
rollback (and `kam rollback`)."""

import os

import pytest
from click.testing import CliRunner

from orchestration.cli.main import main
from orchestration.publish.folders import (
    CURRENT,
    PublishError,
    current_publication,
    leftovers,
    prune,
    publications,
    remove_leftovers,
    rollback,
    staging_folder,
    switch_current,
)
from tests.unit.publish.test_publication import make_publication


def test_switch_current_replaces_the_link_in_one_step(tmp_path):
    a = make_publication(tmp_path, "20260101T000000Z_a")
    b = make_publication(tmp_path, "20260102T000000Z_b")
    switch_current(tmp_path, a.name)
    assert current_publication(tmp_path) == a
    switch_current(tmp_path, b.name)
    assert current_publication(tmp_path) == b
    assert os.readlink(tmp_path / CURRENT) == b.name  # relative: the folder can move
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_prune_keeps_the_newest_and_never_the_current(tmp_path):
    names = [make_publication(tmp_path, f"2026010{i}T000000Z_x").name for i in range(1, 7)]
    switch_current(tmp_path, names[0])  # e.g. after a rollback to the oldest
    prune(tmp_path, keep=3)
    assert [p.name for p in publications(tmp_path)] == [names[0], *names[3:]]


def test_a_folder_without_manifest_is_no_publication(tmp_path):
    make_publication(tmp_path, "20260101T000000Z_a")
    (tmp_path / "20260102T000000Z_b").mkdir()
    assert [p.name for p in publications(tmp_path)] == ["20260101T000000Z_a"]


def test_rollback_goes_to_the_previous_or_the_named_publication(tmp_path):
    names = [make_publication(tmp_path, f"2026010{i}T000000Z_x").name for i in range(1, 4)]
    switch_current(tmp_path, names[2])
    assert rollback(tmp_path) == (tmp_path / names[2], tmp_path / names[1])
    assert rollback(tmp_path) == (tmp_path / names[1], tmp_path / names[0])
    with pytest.raises(PublishError, match="no complete publication before"):
        rollback(tmp_path)
    assert rollback(tmp_path, to=names[2])[1] == tmp_path / names[2]
    with pytest.raises(PublishError, match="no complete publication named 'nope'"):
        rollback(tmp_path, to="nope")
    assert current_publication(tmp_path) == tmp_path / names[2]


def test_kam_rollback_prints_from_and_to_and_fails_clearly(data_root):
    published = data_root / "published"
    result = CliRunner().invoke(main, ["rollback"])
    assert result.exit_code == 1 and "nothing is published" in result.output
    a = make_publication(published, "20260101T000000Z_a")
    b = make_publication(published, "20260102T000000Z_b")
    switch_current(published, b.name)
    result = CliRunner().invoke(main, ["rollback"])
    assert result.exit_code == 0, result.output
    assert f"{b.name} -> {a.name}" in result.output
    assert current_publication(published) == a
    result = CliRunner().invoke(main, ["rollback", "--to", "missing"])
    assert result.exit_code == 1 and "no complete publication named 'missing'" in result.output
    assert current_publication(published) == a
    result = CliRunner().invoke(main, ["rollback", "--to", b.name])
    assert result.exit_code == 0 and f"{a.name} -> {b.name}" in result.output
    assert "working warehouse" in CliRunner().invoke(main, ["rollback", "--help"]).output


def test_leftovers_of_a_killed_publication_are_found_and_removed_and_nothing_else(tmp_path):
    kept = make_publication(tmp_path, "20260101T000000Z_a")
    switch_current(tmp_path, kept.name)
    (tmp_path / "approved").symlink_to(kept.name)  # someone's own link: not ours to remove
    killed = "20260102T000000Z_b"
    staging = staging_folder(tmp_path, killed)
    (staging / "cost_lines").mkdir(parents=True)
    (staging / "cost_lines" / "2026-01.parquet").write_bytes(b"half")
    (tmp_path / killed).symlink_to(staging.name, target_is_directory=True)
    (tmp_path / ".current.4242.tmp").symlink_to(kept.name)  # killed during a switch

    found = leftovers(tmp_path)

    assert sorted(p.name for p in found) == [
        ".20260102T000000Z_b.partial",
        ".current.4242.tmp",
        killed,
    ]
    assert sorted(p.name for p in remove_leftovers(found)) == sorted(p.name for p in found)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20260101T000000Z_a", "approved", CURRENT]
    assert current_publication(tmp_path) == kept
    assert leftovers(tmp_path) == []


def test_a_leftover_link_that_became_a_publication_meanwhile_is_kept(tmp_path):
    name = "20260102T000000Z_b"
    staging = staging_folder(tmp_path, name)
    staging.mkdir()
    (tmp_path / name).symlink_to(staging.name, target_is_directory=True)
    found = leftovers(tmp_path)
    # the run was not killed after all: it renamed its folder into place
    (tmp_path / name).unlink()
    staging.rename(tmp_path / name)
    (tmp_path / name / "manifest.json").write_text("{}")

    assert remove_leftovers(found) == []
    assert [p.name for p in publications(tmp_path)] == [name]
