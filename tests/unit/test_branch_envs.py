"""Branch → env names (docs/git.md): lower case, `/` and invalid characters → `-`, long or lossy
names shortened with a short hash so two branches never share an env; production branches map
to production. Every name produced is a valid env name (docs/concepts.md)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from seeknal.envs.names import RESERVED, branch_env_name, validate_env_name
from seeknal.git.active import env_for_branch
from seeknal.git.settings import GitSettings, git_settings

LONG = "feature/" + "very-long-branch-name-" * 8
TRICKY = [
    "feature/new-metric",
    "Feature/X",
    "FEATURE/X",
    "feature-x",
    "feature/x",
    "feature//x",
    "feature_x",
    "feature.x",
    LONG,
    LONG + "2",
    LONG[:-1] + "Z",
    "a" * 63,
    "a" * 64,
    "a" * 200,
    "功能/分支",
    "功能/分支二",
    "feature/ünïcödé",
    "feature/unicode",
    "prod",
    "production",
    "PROD",
    "Production",
    "-leading",
    "_leading",
    ".hidden",
    "trailing.",
    "with space",
    "x@{y}",
    "release/1.2.3",
    "user/alice/fix#12",
    "1",
    "ÄÖÜ",
]


ENV_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")  # docs/concepts.md


def valid(name: str) -> bool:
    return bool(ENV_NAME.fullmatch(name)) and name not in RESERVED


def test_the_example_branch() -> None:
    assert branch_env_name("feature/new-metric") == "feature-new-metric"


@pytest.mark.parametrize(
    ("branch", "env"),
    [
        ("feature/new-metric", "feature-new-metric"),
        ("dev", "dev"),
        ("release/1.2", "release-1.2"),
        ("user/alice/fix_1", "user-alice-fix_1"),
        ("a" * 63, "a" * 63),
    ],
)
def test_plain_names_map_without_a_hash(branch: str, env: str) -> None:
    assert branch_env_name(branch) == env


@pytest.mark.parametrize("branch", TRICKY)
def test_every_branch_maps_to_a_valid_env_name(branch: str) -> None:
    env = branch_env_name(branch)
    assert valid(env), (branch, env)
    assert validate_env_name(env) == env
    assert len(env) <= 63
    assert env == branch_env_name(branch)  # deterministic


def test_lossy_names_are_lower_case_with_dashes_and_a_hash() -> None:
    env = branch_env_name("Feature/X")
    assert env.startswith("feature-x-") and env != "feature-x"
    assert branch_env_name("feature/ünïcödé").startswith("feature-")
    assert branch_env_name("prod").startswith("prod-")
    assert branch_env_name("production").startswith("production-")


def test_tricky_branches_never_share_an_env() -> None:
    envs = {branch: branch_env_name(branch) for branch in TRICKY}
    # `feature-x` and `feature/x` differ only once one of them is bound (see below)
    plain = {b: e for b, e in envs.items() if b != "feature/x"}
    for (b1, e1), (b2, e2) in itertools.combinations(plain.items(), 2):
        assert e1 != e2, (b1, b2, e1)


def test_feature_x_and_feature_slash_x_differ_once_one_is_bound() -> None:
    bound = {"feature-x": "feature-x"}
    env = branch_env_name("feature/x", bound.get)
    assert env != "feature-x" and valid(env)
    # the owner keeps its name
    assert branch_env_name("feature-x", bound.get) == "feature-x"
    # and the other way round
    bound = {"feature-x": "feature/x"}
    assert branch_env_name("feature/x", bound.get) == "feature-x"
    assert branch_env_name("feature-x", bound.get) != "feature-x"
    names = {
        branch_env_name(b, {"feature-x": "feature-x"}.get)
        for b in ("Feature/X", "feature-x", "feature/x", "FEATURE/X")
    }
    assert len(names) == 4 and all(valid(n) for n in names)


def test_a_branch_named_like_another_branchs_hashed_env_does_not_take_it() -> None:
    hashed = branch_env_name("Feature/X")
    # a branch literally named like that hashed env, bound first
    bound = {hashed: hashed}
    other = branch_env_name("Feature/X", bound.get)
    assert other != hashed and valid(other)
    # and if Feature/X was bound first, the literal branch is the one that moves
    bound = {hashed: "Feature/X"}
    assert branch_env_name("Feature/X", bound.get) == hashed
    literal = branch_env_name(hashed, bound.get)
    assert literal != hashed and valid(literal)


def test_long_names_are_shortened_and_stay_distinct() -> None:
    a, b = branch_env_name(LONG), branch_env_name(LONG + "2")
    assert len(a) <= 63 and len(b) <= 63
    assert a != b
    assert a[:20] == LONG.replace("/", "-")[:20]


def test_production_branches_map_to_production(tmp_path: Path) -> None:
    settings = GitSettings()
    assert env_for_branch(tmp_path, "main", settings) is None
    assert env_for_branch(tmp_path, "master", settings) is None
    assert env_for_branch(tmp_path, "feature/new-metric", settings) == "feature-new-metric"
    custom = git_settings({"git": {"production_branches": ["trunk"]}})
    assert env_for_branch(tmp_path, "trunk", custom) is None
    assert env_for_branch(tmp_path, "main", custom) == "main"


def test_bound_branch_is_read_from_the_env_config(tmp_path: Path) -> None:
    folder = tmp_path / "target" / "environments" / "feature-x"
    folder.mkdir(parents=True)
    (folder / "env_config.json").write_text('{"name": "feature-x", "branch": "feature-x"}\n')
    settings = GitSettings()
    assert env_for_branch(tmp_path, "feature-x", settings) == "feature-x"
    other = env_for_branch(tmp_path, "feature/x", settings)
    assert other is not None and other != "feature-x" and valid(other)


def test_a_branch_keeps_the_env_bound_to_it_when_a_better_name_frees_up() -> None:
    hashed = branch_env_name("feature/x", {"feature-x": "feature-x"}.get)
    assert hashed != "feature-x"
    # the branch that held the plain name is gone (its env collected); feature/x stays put
    assert branch_env_name("feature/x", {hashed: "feature/x"}.get) == hashed
    assert branch_env_name("feature/x", {}.get) == "feature-x"


def _reference_base(branch: str) -> str:
    """How branch names were first turned into env names (regular expressions)."""
    import re

    base = re.sub(r"[^a-z0-9._-]+", "-", branch.lower())
    return re.sub(r"-{2,}", "-", base).strip("-._") or "branch"


@pytest.mark.parametrize(
    "branch",
    [
        "main", "feature/x", "Feature/X", "a--b", "-a-", "._a_.", "a/./b", "a -- b", "a.-.b",
        "ÉTÉ/été", "x" * 80, "--", "...", "feat/ü-1", "a\tb", "/lead", "trail/", "İ", "a_b.c-d",
    ],
)  # fmt: skip
def test_branch_env_names_are_what_they_always_were(branch: str) -> None:
    import hashlib

    base = _reference_base(branch)
    digest = hashlib.sha1(branch.encode("utf-8")).hexdigest()
    plain = base == branch.replace("/", "-") and base not in ("prod", "production", ".", "..")
    expected = base if plain and len(base) <= 63 else f"{base[:56].rstrip('-._')}-{digest[:6]}"
    assert branch_env_name(branch) == expected
    # bound to this branch or not, the same answer as the full candidate search
    assert branch_env_name(branch, lambda name: branch if name == expected else None) == expected
    assert branch_env_name(branch, lambda name: None) == expected
