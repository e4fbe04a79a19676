"""The git flow end to end (docs/git.md): pre-push plans against the merge-base and may block,
post-merge / `seeknal sync` promote an applied branch env (or run, or notify), plans between
revisions from git objects alone, and `seeknal env gc` for deleted branches."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import PROJECT_YML, cli, git, output, ran, rows, run_json
from gitkit import (
    ADULTS_WITH_COLUMN,
    BROKEN_NODE,
    EXTRA_ON_MAIN,
    NAMES_BREAKING,
    NAMES_NON_BREAKING,
    bare_remote,
    commit_files,
    env_folder,
    ignore_target,
    install_hooks,
    promotions,
    read_json,
    rev,
    run_git,
    seeknal_lines,
)

ADULTS = "seeknal/transforms/adults.yml"
NAMES = "seeknal/transforms/names.yml"


@pytest.fixture
def small(small: Path) -> Path:
    """The small project, committed, with target/ ignored."""
    return ignore_target(small)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_git_settings(text: str) -> dict[str, str]:
    return {"seeknal_project.yml": PROJECT_YML.format(name="small") + text}


def columns(path: Path) -> list[str]:
    return [r[0] for r in rows(path, "SELECT column_name FROM (DESCRIBE t)")]


# -- pre-push -------------------------------------------------------------------------------------
def test_push_plans_the_branch_against_its_merge_base(small: Path) -> None:
    assert cli(small, "run").exit_code == 0  # production at the branch point
    install_hooks(small)
    bare_remote(small)
    done = run_git(small, "push", "-q", "origin", "main")
    assert any("production branch main" in line for line in seeknal_lines(done.stderr))

    run_git(small, "checkout", "-q", "-b", "feature/new-metric")
    head = commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults: age in months")
    branch_point = rev(small, "main")
    run_git(small, "checkout", "-q", "main")
    commit_files(small, {"seeknal/transforms/extra.yml": EXTRA_ON_MAIN}, "extra on main")
    run_git(small, "checkout", "-q", "feature/new-metric")
    assert not (small / "target" / "environments").exists()

    done = run_git(small, "push", "-u", "origin", "feature/new-metric")
    lines = seeknal_lines(done.stderr)
    assert any("feature-new-metric: 1 changed node(s)" in line for line in lines), done.stderr
    assert "transform.adults" in done.stderr
    assert "transform.extra" not in done.stderr

    plan = read_json(env_folder(small, "feature-new-metric") / "plan.json")
    assert plan["git"]["branch"] == "feature/new-metric"
    assert plan["git"]["head"] == head
    assert plan["git"]["base"] == branch_point
    assert plan["categorized_changes"]["transform.adults"] == "non_breaking"
    mentioned = json.dumps(
        [plan["categorized_changes"], plan["added_nodes"], plan["nodes_to_execute"]]
    )
    assert "transform.extra" not in mentioned  # landed on main after the branch point
    assert plan["removed_nodes"] == []  # nor does the branch "remove" it
    config = read_json(env_folder(small, "feature-new-metric") / "env_config.json")
    assert config["branch"] == "feature/new-metric"

    # the env list shows the binding
    res = cli(small, "env", "list", "--json")
    envs = {row["name"]: row for row in res.json()}
    assert envs["feature-new-metric"]["branch"] == "feature/new-metric"
    assert envs["feature-new-metric"]["status"] == "planned"
    # the pushed plan is the one `run --env` applies
    res, summary = run_json(small, "--env", "feature-new-metric")
    assert res.exit_code == 0, res.output
    assert ran(summary) == {"transform.adults"}
    assert read_json(env_folder(small, "feature-new-metric") / "plan.json") == plan


def test_push_of_a_metadata_only_change_says_there_is_nothing_to_compute(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "docs-only")
    text = (small / ADULTS).read_text()
    commit_files(small, {ADULTS: text.replace("People aged 18", "Adults, people aged 18")}, "doc")

    done = run_git(small, "push", "-u", "origin", "docs-only")
    lines = seeknal_lines(done.stderr)
    assert any("docs-only: 1 changed node(s), 0 downstream, 0 to execute" in x for x in lines)
    assert "seeknal: nothing to compute; merging promotes it without running a node" in lines
    assert not any("computes it" in line for line in lines), done.stderr


def test_env_list_on_a_branch_without_env_suggests_the_branch_env(small: Path) -> None:
    run_git(small, "checkout", "-q", "-b", "feature/x")
    res = cli(small, "env", "list")
    assert res.exit_code == 0, res.output
    assert "No environments. Create one with: seeknal plan feature-x" in res.stdout


def test_push_with_project_errors_is_blocked_unless_skipped(small: Path) -> None:
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/bad")
    commit_files(
        small,
        {
            "seeknal/transforms/bad.yml": (
                "kind: transform\nname: bad\ninputs:\n  - ref: transform.nowhere\n"
                "transform: SELECT * FROM ref('transform.nowhere')\n"
            )
        },
        "a node with a dangling ref",
    )
    done = run_git(small, "push", "origin", "feature/bad", check=False)
    assert done.exit_code != 0, done.output
    assert "push blocked" in done.stderr
    assert "transform.nowhere" in done.stderr  # names the error
    assert "--no-verify" in done.stderr
    remote_heads = git(small, "ls-remote", "--heads", "origin")
    assert "feature/bad" not in remote_heads

    done = run_git(small, "push", "origin", "feature/bad", env={"SEEKNAL_SKIP_HOOKS": "1"})
    assert seeknal_lines(done.stderr) == []
    done = run_git(small, "push", "--no-verify", "origin", "feature/bad:refs/heads/other")
    assert seeknal_lines(done.stderr) == []
    remote_heads = git(small, "ls-remote", "--heads", "origin")
    assert "refs/heads/feature/bad" in remote_heads and "refs/heads/other" in remote_heads


def test_push_with_invalid_node_yaml_is_blocked(small: Path) -> None:
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/yaml")
    commit_files(small, {ADULTS: BROKEN_NODE}, "broken yaml")
    done = run_git(small, "push", "origin", "feature/yaml", check=False)
    assert done.exit_code != 0, done.output
    assert "adults.yml" in done.stderr


def test_block_on_breaking_when_configured(small: Path) -> None:
    commit_files(small, with_git_settings("git:\n  pre_push_block_on: [error, breaking]\n"), "cfg")
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/breaking")
    commit_files(small, {NAMES: NAMES_BREAKING}, "drop a column")
    done = run_git(small, "push", "origin", "feature/breaking", check=False)
    assert done.exit_code != 0, done.output
    assert "breaking" in done.stderr and "transform.names" in done.stderr

    run_git(small, "checkout", "-q", "main")
    run_git(small, "checkout", "-q", "-b", "feature/additive")
    commit_files(small, {NAMES: NAMES_NON_BREAKING}, "add a column")
    done = run_git(small, "push", "origin", "feature/additive")
    assert "non_breaking" in done.stderr
    assert "push blocked" not in done.stderr


def test_breaking_is_not_blocked_by_default(small: Path) -> None:
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/breaking")
    commit_files(small, {NAMES: NAMES_BREAKING}, "drop a column")
    done = run_git(small, "push", "origin", "feature/breaking")
    assert "breaking" in done.stderr
    assert "push blocked" not in done.stderr


def test_push_delete_and_push_main_are_handled(small: Path) -> None:
    install_hooks(small)
    bare_remote(small)
    done = run_git(small, "push", "origin", "main")
    assert seeknal_lines(done.stderr) == [
        "seeknal: pushing production branch main; production follows merges "
        "(post-merge hook or 'seeknal sync')"
    ]
    run_git(small, "checkout", "-q", "-b", "feature/x")
    commit_files(small, {NAMES: NAMES_NON_BREAKING}, "x")
    run_git(small, "push", "origin", "feature/x")
    # `HEAD:<branch>` names the branch by its remote ref
    done = run_git(small, "push", "origin", "HEAD:refs/heads/feature/via-head")
    assert any("feature-via-head: 1 changed node(s)" in x for x in seeknal_lines(done.stderr))
    assert (env_folder(small, "feature-via-head") / "plan.json").is_file()
    run_git(small, "checkout", "-q", "main")
    done = run_git(small, "push", "origin", "--delete", "feature/x")
    assert done.exit_code == 0
    lines = seeknal_lines(done.stderr)
    assert len(lines) == 1 and "feature/x" in lines[0] and "deleted" in lines[0], done.stderr
    assert "feature/x" not in git(small, "ls-remote", "--heads", "origin")


def test_push_keeps_an_applied_env_and_records_the_branch(small: Path) -> None:
    """Pushing after `seeknal run` on the branch keeps the applied env (merge can promote it)."""
    cli(small, "run")
    install_hooks(small)
    bare_remote(small)
    run_git(small, "checkout", "-q", "-b", "feature/applied")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    before = read_json(env_folder(small, "feature-applied") / "plan.json")["plan_id"]
    run_git(small, "push", "origin", "feature/applied")
    plan = read_json(env_folder(small, "feature-applied") / "plan.json")
    assert plan["plan_id"] == before
    res = cli(small, "env", "list")
    assert "applied" in res.stdout
    config = read_json(env_folder(small, "feature-applied") / "env_config.json")
    assert config.get("branch") == "feature/applied"


# -- post-merge -----------------------------------------------------------------------------------
def merge(root: Path, branch: str, how: str) -> str:
    if how == "no-ff":
        done = run_git(root, "merge", "--no-ff", "-m", f"merge {branch}", branch)
    elif how == "ff":
        done = run_git(root, "merge", "--ff-only", branch)
    else:
        staged = run_git(root, "merge", "--squash", branch)
        assert "squash merge staged" in staged.stderr
        done = run_git(root, "commit", "-q", "-m", f"squash {branch}")
        return staged.stderr + done.stderr
    return done.stderr


@pytest.mark.parametrize("how", ["no-ff", "ff", "squash"])
def test_merge_promotes_the_applied_branch_env(small: Path, how: str) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/m")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults: age in months")
    res = cli(small, "run")  # the branch env (checkout rule): planned and applied
    assert res.exit_code == 0, res.output
    env_out = env_folder(small, "feature-m") / "cache" / "transform" / "adults.parquet"
    env_sha = sha(env_out)
    if how != "ff":  # a commit on main too, so the merge is a real one
        run_git(small, "checkout", "-q", "main")
        commit_files(small, {"notes.txt": "unrelated\n"}, "notes")
    else:
        run_git(small, "checkout", "-q", "main")

    before_merge = rev(small, "HEAD")
    stderr = merge(small, "feature/m", how)
    assert "seeknal: promoted env feature-m" in stderr, stderr
    promotion = promotions(small)[-1]
    assert promotion["env"] == "feature-m"
    assert promotion["nodes"] == ["transform.adults"]
    # a squash merge is promoted by the commit that completes it (post-commit)
    assert promotion["git_commit"] == rev(small, "HEAD") != before_merge
    assert sha(output(small, "transform.adults")) == env_sha
    assert "age_months" in columns(output(small, "transform.adults"))
    _, summary = run_json(small)
    assert ran(summary) == set()


def test_abandoned_squash_merge_leaves_production_alone(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/s")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults: age in months")
    assert cli(small, "run").exit_code == 0
    run_git(small, "checkout", "-q", "main")
    before = sha(output(small, "transform.adults"))
    staged = run_git(small, "merge", "--squash", "feature/s")
    assert "squash merge staged" in staged.stderr
    assert "promoted" not in staged.stderr
    run_git(small, "reset", "-q", "--hard")  # the squash is abandoned
    assert sha(output(small, "transform.adults")) == before
    assert promotions(small) == []
    # an unrelated commit on main afterwards does not promote the branch env either
    commit_files(small, {"notes.txt": "later\n"}, "notes")
    assert promotions(small) == []
    listed = {r["name"]: r["status"] for r in cli(small, "env", "list", "--json").json()}
    assert listed["feature-s"] == "applied"


def test_merge_runs_what_changed_with_on_merge_run(small: Path) -> None:
    commit_files(small, with_git_settings("git:\n  on_merge: run\n"), "cfg")
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/r")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    run_git(small, "checkout", "-q", "main")
    stderr = merge(small, "feature/r", "no-ff")
    assert "seeknal: ran" in stderr, stderr
    assert promotions(small) == []
    assert "age_months" in columns(output(small, "transform.adults"))
    _, summary = run_json(small)
    assert ran(summary) == set()


def test_merge_only_notifies_with_on_merge_notify(small: Path) -> None:
    commit_files(small, with_git_settings("git:\n  on_merge: notify\n"), "cfg")
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    before = sha(output(small, "transform.adults"))
    run_git(small, "checkout", "-q", "-b", "feature/n")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    run_git(small, "checkout", "-q", "main")
    stderr = merge(small, "feature/n", "no-ff")
    lines = seeknal_lines(stderr)
    assert len(lines) == 1 and "seeknal run" in lines[0], stderr
    assert sha(output(small, "transform.adults")) == before
    _, summary = run_json(small)
    assert "transform.adults" in ran(summary)


def test_merge_promotes_even_with_on_merge_notify_when_an_env_matches(small: Path) -> None:
    commit_files(small, with_git_settings("git:\n  on_merge: notify\n"), "cfg")
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/n")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    assert cli(small, "run").exit_code == 0
    run_git(small, "checkout", "-q", "main")
    stderr = merge(small, "feature/n", "ff")
    assert "promoted env feature-n" in stderr


def test_a_broken_branch_never_fails_the_merge(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/broken")
    commit_files(small, {ADULTS: BROKEN_NODE}, "broken")
    run_git(small, "checkout", "-q", "main")
    done = run_git(small, "merge", "--no-ff", "-m", "merge broken", "feature/broken")
    assert done.exit_code == 0
    lines = seeknal_lines(done.stderr)
    assert len(lines) == 1 and "post-merge hook skipped" in lines[0], done.stderr
    assert git(small, "log", "-1", "--format=%s").strip() == "merge broken"


def test_merge_on_a_feature_branch_does_nothing(small: Path) -> None:
    install_hooks(small)
    run_git(small, "checkout", "-q", "-b", "feature/a")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "a")
    run_git(small, "checkout", "-q", "main")
    run_git(small, "checkout", "-q", "-b", "feature/b")
    done = run_git(small, "merge", "--no-ff", "-m", "a into b", "feature/a")
    assert [line for line in seeknal_lines(done.stderr) if "promot" in line or "ran" in line] == []
    assert not (small / "target" / "run_state.json").exists()


# -- seeknal sync ---------------------------------------------------------------------------------
def test_sync_promotes_on_demand_without_hooks(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    git(small, "checkout", "-q", "-b", "feature/s")
    commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    res = cli(small, "run")
    assert res.exit_code == 0, res.output
    env_sha = sha(env_folder(small, "feature-s") / "cache" / "transform" / "adults.parquet")
    git(small, "checkout", "-q", "main")
    git(small, "merge", "-q", "--no-ff", "-m", "merge", "feature/s")
    assert promotions(small) == []  # no hooks installed

    res = cli(small, "sync")
    assert res.exit_code == 0, res.output
    assert "promoted env feature-s" in res.stdout
    assert promotions(small)[-1]["env"] == "feature-s"
    assert sha(output(small, "transform.adults")) == env_sha
    res = cli(small, "sync")
    assert "already matches" in res.stdout

    git(small, "checkout", "-q", "feature/s")
    res = cli(small, "sync")
    assert res.exit_code == 0 and "not a production branch" in res.stdout


def test_sync_on_merge_run_without_matching_env(small: Path) -> None:
    commit_files(small, with_git_settings("git:\n  on_merge: run\n"), "cfg")
    assert cli(small, "run").exit_code == 0
    git(small, "checkout", "-q", "-b", "feature/s")
    commit_files(small, {NAMES: NAMES_NON_BREAKING}, "names")
    git(small, "checkout", "-q", "main")
    git(small, "merge", "-q", "--ff-only", "feature/s")
    res = cli(small, "sync")
    assert res.exit_code == 0, res.output
    assert "ran 1 changed node(s)" in res.stdout
    assert "lower_name" in columns(output(small, "transform.names"))


def test_sync_in_ci_on_a_detached_head(small: Path, tmp_path: Path) -> None:
    """CI checks out the merged commit detached: at the production tip it syncs, elsewhere not."""
    commit_files(small, with_git_settings("git:\n  on_merge: run\n"), "cfg")
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(small), str(clone))
    git(clone, "checkout", "-q", "--detach", "origin/main")
    git(clone, "branch", "-q", "-D", "main")  # CI clones often have no local branch at all
    res = cli(clone, "sync")
    assert res.exit_code == 0, res.output
    assert "ran 4 changed node(s)" in res.stdout
    assert (clone / "target" / "run_state.json").is_file()

    git(clone, "checkout", "-q", "--detach", "HEAD~1")
    res = cli(clone, "sync")
    assert res.exit_code == 0, res.output
    assert "detached" in res.stdout and "nothing to sync" in res.stdout


# -- plans between revisions ----------------------------------------------------------------------
def test_plan_between_revisions_in_a_fresh_clone(small: Path, tmp_path: Path) -> None:
    git(small, "checkout", "-q", "-b", "feature/p")
    head = commit_files(small, {ADULTS: ADULTS_WITH_COLUMN}, "adults")
    branch_point = rev(small, "main")
    git(small, "checkout", "-q", "main")
    main_head = commit_files(small, {"seeknal/transforms/extra.yml": EXTRA_ON_MAIN}, "extra")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(small), str(clone))
    git(clone, "checkout", "-q", "feature/p")
    assert not (clone / "target").exists()

    res = cli(clone, "plan", "--base", "origin/main", "--json")
    assert res.exit_code == 0, res.output
    plan = res.json()
    assert plan["categorized_changes"] == {
        "transform.adults": "non_breaking",
        **{k: v for k, v in plan["categorized_changes"].items() if k != "transform.adults"},
    }
    assert plan["categorized_changes"]["transform.adults"] == "non_breaking"
    assert "transform.extra" not in json.dumps(plan)
    assert plan["git"]["base"] == branch_point and plan["git"]["head"] == head
    assert not (clone / "target" / "manifest.json").exists()
    assert not (clone / "target" / "environments").exists()

    res = cli(clone, "plan", "--base", branch_point, "--head", head, "--json")
    assert res.exit_code == 0, res.output
    assert res.json()["categorized_changes"] == plan["categorized_changes"]

    # the other way round: main's new node is the change, adults is not
    res = cli(clone, "plan", "--base", head, "--head", main_head, "--json")
    assert res.exit_code == 0, res.output
    other = res.json()
    assert other["categorized_changes"] == {"transform.extra": "added"}
    assert other["added_nodes"] == ["transform.extra"]

    res = cli(clone, "plan", "--base", "origin/main")
    assert res.exit_code == 0, res.output
    assert "transform.adults" in res.stdout and "merge-base" in res.stdout

    res = cli(clone, "plan", "--base", "no-such-branch")
    assert res.exit_code != 0 and "no-such-branch" in res.output


# -- env gc ---------------------------------------------------------------------------------------
def test_env_gc_removes_envs_of_deleted_branches(small: Path) -> None:
    assert cli(small, "run").exit_code == 0
    install_hooks(small)
    for branch in ("feature/gone", "feature/kept"):
        run_git(small, "checkout", "-q", "-b", branch)
        commit_files(small, {NAMES: NAMES_NON_BREAKING.replace("lower", branch[-4:])}, branch)
        res = cli(small, "plan")  # the branch's env, bound to the branch
        assert res.exit_code == 0, res.output
        run_git(small, "checkout", "-q", "main")
    res = cli(small, "plan", "manual")  # an env no branch owns
    assert res.exit_code == 0, res.output
    for env, branch in (("feature-gone", "feature/gone"), ("feature-kept", "feature/kept")):
        assert read_json(env_folder(small, env) / "env_config.json").get("branch") == branch

    res = cli(small, "env", "gc")
    assert "Nothing to collect" in res.stdout
    git(small, "branch", "-D", "feature/gone")
    git(small, "pack-refs", "--all")  # branch_exists must read packed refs too

    res = cli(small, "env", "gc", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "Would delete feature-gone" in res.stdout and "feature/gone" in res.stdout
    assert "feature-kept" not in res.stdout and "manual" not in res.stdout
    assert env_folder(small, "feature-gone").is_dir()

    res = cli(small, "env", "gc")
    assert res.exit_code == 0, res.output
    assert "Deleted feature-gone" in res.stdout
    assert not env_folder(small, "feature-gone").exists()
    assert env_folder(small, "feature-kept").is_dir()
    assert env_folder(small, "manual").is_dir()


def test_a_branch_keeps_its_env_after_gc_collects_a_look_alike_branchs_env(small: Path) -> None:
    # feature-a/b and feature/a-b both lower to feature-a-b: the first one planned takes the
    # plain name, the other gets a hashed one
    for branch in ("feature-a/b", "feature/a-b"):
        run_git(small, "checkout", "-q", "-b", branch)
        res = cli(small, "plan")  # the branch's env, bound to the branch
        assert res.exit_code == 0, res.output
        run_git(small, "checkout", "-q", "main")
    bound = {
        folder.name: read_json(folder / "env_config.json").get("branch")
        for folder in (small / "target" / "environments").iterdir()
    }
    assert bound["feature-a-b"] == "feature-a/b"
    own = next(env for env, branch in bound.items() if branch == "feature/a-b")
    assert own.startswith("feature-a-b-")

    git(small, "branch", "-D", "feature-a/b")
    res = cli(small, "env", "gc")
    assert res.exit_code == 0 and "Deleted feature-a-b" in res.stdout, res.output

    run_git(small, "checkout", "-q", "feature/a-b")
    res = cli(small, "env", "current")
    assert res.exit_code == 0 and own in res.stdout, res.output
    res = cli(small, "plan")
    assert res.exit_code == 0, res.output
    envs = sorted(p.name for p in (small / "target" / "environments").iterdir())
    assert envs == [own]
    assert read_json(env_folder(small, own) / "env_config.json")["branch"] == "feature/a-b"
