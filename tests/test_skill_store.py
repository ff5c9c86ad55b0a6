"""Installed skills with their history: revisions, rollback, acceptance of skills from
elsewhere, and bundles that are refused."""

from __future__ import annotations

import json
import os

import pytest

from smolab.skills import BUILTIN, SkillError, SkillLibrary, SkillStore

from .conftest import run_cli
from .test_skills import write_skill

META = "metadata:\n  role: blueprint\n  kind: activation\n  version: '{v}'\n  extends: blueprint-common\n"


def own_activation(root, version: str = "5", text: str = "Ours."):
    folder = root / "blueprint-activation"
    if folder.exists():
        (folder / "SKILL.md").unlink()
        folder.rmdir()
    return write_skill(folder, "blueprint-activation", text, META.format(v=version))


def test_revisions_roll_back_and_replace_the_builtin_skill(tmp_path):
    store = SkillStore(tmp_path / "home" / "skills")
    src = own_activation(tmp_path / "src")
    state, added = store.add(src, source="local:test", note="ours")
    assert added and state.current == 1 and state.trusted
    assert store.add(src, source="local:test") == (state, False)  # the same files add nothing
    own_activation(tmp_path / "src", version="6", text="Ours, better.")
    state, added = store.add(src, source="local:test")
    assert added and state.current == 2 and [r.version for r in state.revisions] == ["5", "6"]
    lib = SkillLibrary(store=store)
    used = lib.blueprints()["activation"]
    assert (used.description, used.revision, used.builtin) == ("Ours, better.", 2, False)
    assert lib.tree(used)["main.py"].is_relative_to(BUILTIN)  # what it extends still resolves
    store.rollback("blueprint-activation", 1)
    assert SkillLibrary(store=store).blueprints()["activation"].description == "Ours."
    # Both revisions stay on disk; a rollback moves the pointer only.
    assert store.folder("blueprint-activation", 2).joinpath("SKILL.md").read_text().count("better") == 1
    with pytest.raises(SkillError, match="has no revision 7; its revisions: 1, 2"):
        store.rollback("blueprint-activation", 7)
    store.remove("blueprint-activation")
    assert SkillLibrary(store=store).blueprints()["activation"].builtin


def test_a_skill_from_elsewhere_is_not_used_until_accepted(tmp_path):
    store = SkillStore(tmp_path / "skills")
    store.add(own_activation(tmp_path / "hub"), source="hub:http://127.0.0.1:1", trusted=False)
    assert SkillLibrary(store=store).blueprints()["activation"].builtin
    store.accept("blueprint-activation")
    assert not SkillLibrary(store=store).blueprints()["activation"].builtin
    # A new revision from elsewhere needs accepting again.
    store.add(own_activation(tmp_path / "hub", version="7"), source="hub:http://127.0.0.1:1", trusted=False)
    assert SkillLibrary(store=store).blueprints()["activation"].builtin


def test_bundles_with_links_too_many_bytes_or_no_skill_are_refused(tmp_path):
    store = SkillStore(tmp_path / "skills")
    linked = write_skill(tmp_path / "a" / "linked", "linked")
    (tmp_path / "secret").write_text("key")
    os.symlink(tmp_path / "secret", linked / "notes.md")
    with pytest.raises(SkillError, match="notes.md is a link"):
        store.add(linked, source="local:test")
    big = write_skill(tmp_path / "b" / "big", "big")
    (big / "assets").mkdir()
    (big / "assets" / "weights.bin").write_bytes(b"\0" * (3 * 1024 * 1024))
    with pytest.raises(SkillError, match="a skill may be at most"):
        store.add(big, source="local:test")
    with pytest.raises(SkillError, match="not a valid skill"):
        store.add(tmp_path / "a", source="local:test")
    assert store.names() == []  # nothing half-installed


def test_cli_adds_lists_shows_history_and_refuses_in_one_line(tmp_path):
    env = {"SMOLAB_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    src = own_activation(tmp_path / "src")
    r = run_cli("skills", "add", str(src), "--note", "our activation", env=env)
    assert r.returncode == 0 and "installed blueprint-activation r1" in r.stdout
    rows = {row["name"]: row for row in json.loads(run_cli("skills", "list", "--json", env=env).stdout)}
    assert rows["blueprint-activation"]["revision"] == 1 and not rows["blueprint-activation"]["builtin"]
    r = run_cli("skills", "history", "blueprint-activation", env=env)
    assert "r1 (current)" in r.stdout and "our activation" in r.stdout
    r = run_cli("skills", "rollback", "blueprint-activation", "3", env=env)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "no revision 3" in r.stderr
    r = run_cli("skills", "remove", "nothing-here", env=env)
    assert r.returncode == 2 and "no installed skill named 'nothing-here'" in r.stderr
    assert run_cli("skills", "remove", "blueprint-activation", env=env).returncode == 0
