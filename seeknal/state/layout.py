"""Where everything lives under target/ (docs/concepts.md)."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from seeknal.types import Node, Output, OutputKind

TARGET = "target"
TOOL_CACHE = ".seeknal-cache"


class Target:
    """Production (`env=None`) or one environment's folder under target/."""

    def __init__(self, project_root: Path, env: str | None = None) -> None:
        self.root = project_root
        self.base = project_root / TARGET
        self.env = env
        self.dir = self.base if env is None else self.base / "environments" / env

    @property
    def cache_dir(self) -> Path:
        return self.dir / "cache"

    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    @property
    def run_state_path(self) -> Path:
        return self.dir / "run_state.json"

    @property
    def plan_path(self) -> Path:
        return self.dir / "plan.json"

    @property
    def env_config_path(self) -> Path:
        return self.dir / "env_config.json"

    @property
    def refs_path(self) -> Path:
        return self.dir / "refs.json"

    @property
    def entity_files_path(self) -> Path:
        """An env's record of the consolidated feature store files it wrote."""
        return self.dir / "feature_store.json"

    @property
    def own_files(self) -> Path:
        """Where the paths a kind names (`output_file`) are: the project for production, the
        env's folder for an env (`target/feature_store/...` lands inside it)."""
        return self.root if self.env is None else self.dir

    @property
    def tool_cache_path(self) -> Path:
        return self.base / TOOL_CACHE / "cache.pickle"

    @property
    def spare_tool_cache_path(self) -> Path | None:
        """Where the tool cache lives while the project has no target/ (a plan does not create
        one): the user's cache folder, one file per project folder. None without a home."""
        folder = user_cache_folder()
        if folder is None:
            return None
        name = hashlib.sha256(str(self.root).encode()).hexdigest()[:24]
        return folder / "projects" / f"{name}.pickle"

    def output(self, node: Node) -> Output:
        """What a node writes: a parquet file in the cache, or a file its kind names."""
        from seeknal.kinds import spec_for  # lazily: hooks build Targets but place no node

        rel = spec_for(node.kind).output_file(node)
        if rel is not None:
            return Output.file(self.own_files / rel)
        # joined as strings: a plan places every node, and Path objects cost ~30 us each
        name = f"{node.name}.parquet"  # names are word characters, dots and dashes: no "/"
        return Output(OutputKind.FILE, os.path.join(self._cache_dir, str(node.kind), name))

    @functools.cached_property
    def _cache_dir(self) -> str:
        return str(self.cache_dir)

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def absolute(self, rel: str) -> Path:
        path = Path(rel)
        return path if path.is_absolute() else self.root / path


def user_cache_folder() -> Path | None:
    """seeknal's folder in the user's cache ($XDG_CACHE_HOME, else ~/.cache); None without a
    home. Only what can be rebuilt goes there."""
    folder = os.environ.get("XDG_CACHE_HOME")
    if not folder:
        home = os.environ.get("HOME")
        if not home:
            return None
        folder = os.path.join(home, ".cache")
    return Path(folder) / "seeknal"
