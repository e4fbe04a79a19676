"""A top-level key seeknal does not read but that looks like one it does is a warning naming
file, line and the key meant; other unknown keys (a team's own metadata) stay quiet."""

from __future__ import annotations

from pathlib import Path

from conftest import SMALL_NODES, cli, small_project

ADULTS = "seeknal/transforms/adults.yml"


def test_a_misspelt_key_is_named_with_the_key_meant(git_project: Path) -> None:
    text = SMALL_NODES[ADULTS] + "descripton: typo\nmaterialisation: table\nteam_id: 42\n"
    small_project(git_project, {ADULTS: text})
    lines = text.splitlines()
    for args in (["plan"], ["run"], ["plan"]):  # the second plan takes the node from the cache
        res = cli(git_project, *args)
        assert res.exit_code == 0, res.output
        warned = [line for line in res.stderr.splitlines() if "unknown key" in line]
        assert warned == [
            f"warning: {ADULTS}:{lines.index('descripton: typo') + 1}: unknown key 'descripton' "
            "(did you mean 'description'?): seeknal does not use its value (changing it still reruns the node)",
            f"warning: {ADULTS}:{lines.index('materialisation: table') + 1}: unknown key "
            "'materialisation' (did you mean 'materializations'?): seeknal does not use its value (changing it still reruns the node)",
        ], res.stderr
    assert "team_id" not in res.stderr


def test_keys_seeknal_reads_are_never_taken_for_misspellings(git_project: Path) -> None:
    text = SMALL_NODES[ADULTS] + "owner: data\ntags: [a]\nkey: id\nmaterialization: {}\n"
    small_project(git_project, {ADULTS: text})
    res = cli(git_project, "plan")
    assert res.exit_code == 0, res.output
    assert "unknown key" not in res.stderr


def test_a_misspelt_kind_names_the_kind_meant(git_project: Path) -> None:
    text = SMALL_NODES[ADULTS].replace("kind: transform", "kind: tranform")
    small_project(git_project, {ADULTS: text})
    res = cli(git_project, "plan")
    assert res.exit_code == 1, res.output
    assert f"{ADULTS}:1: unknown kind 'tranform': did you mean 'transform'? (known: source, " in (
        res.output
    )
    # a kind like no other gets the list alone
    small_project(git_project, {ADULTS: SMALL_NODES[ADULTS].replace("transform\n", "zzz\n", 1)})
    res = cli(git_project, "plan")
    assert res.exit_code == 1, res.output
    assert f"{ADULTS}:1: unknown kind 'zzz' (known: source, " in res.output


FEATURE_GROUP = """\
kind: feature_group
name: adult_ages
entity:
  name: person
  join_keys: [id]
inputs:
  - ref: source.people
transform: |
  SELECT id, age, DATE '2024-01-01' AS event_time FROM source
"""


def test_only_keys_the_nodes_kind_reads_are_suggested(git_project: Path) -> None:
    # a transform reads materializations (warehouse tables), never materialization (a feature
    # group's); a feature group reads both, and is told the closer one
    group = "seeknal/feature_groups/adult_ages.yml"
    small_project(
        git_project,
        {
            ADULTS: SMALL_NODES[ADULTS] + "materialisation:\n  event_time_col: x\n",
            group: FEATURE_GROUP + "materialisation:\n  event_time_col: event_time\n",
            "seeknal/transforms/names.yml": SMALL_NODES["seeknal/transforms/names.yml"]
            + "featurs: [a]\nrul: x\n",
        },
    )
    res = cli(git_project, "plan")
    assert res.exit_code == 0, res.output
    warned = sorted(line for line in res.stderr.splitlines() if "unknown key" in line)
    assert [line.split(": seeknal does not")[0] for line in warned] == [
        f"warning: {group}:10: unknown key 'materialisation' (did you mean 'materialization'?)",
        f"warning: {ADULTS}:10: unknown key 'materialisation' (did you mean 'materializations'?)",
    ], res.stderr


def test_swapped_letters_in_a_short_key_are_a_misspelling(git_project: Path) -> None:
    text = SMALL_NODES[ADULTS] + "tgas: [a]\nonwer: data\nkye: id\nteam: data\nowner_id: 3\n"
    small_project(git_project, {ADULTS: text})
    res = cli(git_project, "plan")
    assert res.exit_code == 0, res.output
    warned = [line.split(": seeknal does not")[0] for line in res.stderr.splitlines()]
    assert [line for line in warned if "unknown key" in line] == [
        f"warning: {ADULTS}:10: unknown key 'tgas' (did you mean 'tags'?)",
        f"warning: {ADULTS}:11: unknown key 'onwer' (did you mean 'owner'?)",
        f"warning: {ADULTS}:12: unknown key 'kye' (did you mean 'key'?)",
    ], res.stderr
