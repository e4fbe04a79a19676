"""Node selection: what `--nodes`, `--select`/`-s` and `--exclude` name, over a project and its DAG.

A selector is one of

    transform.orders | orders      a node id, or a name only one node has
    transform.*                    a glob on node ids (`*`, `?`, `[...]`)
    tag:daily  kind:transform      every node with that tag / of that kind
    path:seeknal/marts             every node whose file is in that folder (or is that file)

with `+` in front for everything upstream of the matches and `+` behind for everything
downstream. Several selectors (comma-separated or repeated options) are a union.

`--nodes` keeps its historical meaning: the nodes it names *and their downstream* run.
`--select` means exactly the selected nodes (add `+` for more). `--exclude` removes nodes from
either. Pure: no files, no printing.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from seeknal.dag import Dag
from seeknal.errors import SeeknalError
from seeknal.types import Project

METHODS = ("tag", "kind", "path")
GLOB_CHARS = frozenset("*?[")


class SelectionError(SeeknalError):
    """A selector that names nothing, or that cannot be read."""


@dataclass(frozen=True)
class SelectArgs:
    """What the user typed: `--nodes`, `--select`/`-s` and `--exclude` values."""

    nodes: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        nodes: Iterable[str] | None = None,
        select: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
    ) -> SelectArgs:
        return cls(tuple(nodes or ()), tuple(select or ()), tuple(exclude or ()))

    def __bool__(self) -> bool:
        return bool(self.nodes or self.select or self.exclude)

    @property
    def option(self) -> str:
        """The option the selection came from, for reasons and messages."""
        if self.nodes:
            return "--nodes"
        return "--select" if self.select else "--exclude"


@dataclass(frozen=True)
class Selection:
    """`direct`: the nodes chosen by name (None: chosen by change, as without options);
    `allowed`: when given, no other node may run, not even downstream of one that does."""

    direct: frozenset[str] | None
    allowed: frozenset[str] | None
    option: str


def terms(values: Iterable[str]) -> list[str]:
    """Selectors from option values: comma-separated, repeated, blanks dropped."""
    return [part.strip() for raw in values for part in raw.split(",") if part.strip()]


def select_ids(project: Project, dag: Dag, selectors: Sequence[str]) -> set[str]:
    """Every node id the selectors name (a union). Selectors that are all empty text are
    refused, not read as "nothing"."""
    if selectors and not terms(selectors):
        raise SelectionError(
            f"No node selected: {', '.join(repr(v) for v in selectors)} names no node.",
            "Pass node ids (kind.name), names or selectors, or leave them out.",
        )
    chosen: set[str] = set()
    for term in terms(selectors):
        chosen |= _one(project, dag, term)
    return chosen


def resolve(project: Project, dag: Dag, args: SelectArgs) -> Selection | None:
    """The selection `args` make, or None when nothing restricts the run."""
    if not args:
        return None
    if args.nodes and args.select:
        raise SelectionError(
            "--nodes and --select are two ways to choose nodes; give one.",
            "--nodes X runs X and its downstream; --select X runs only X (X+ adds downstream).",
        )
    for values in (args.nodes, args.select):
        if values and not terms(values):
            raise SelectionError(
                f"No node selected: {', '.join(repr(v) for v in values)} names no node.",
                "Pass node ids (kind.name) or names, e.g. --nodes transform.orders, or leave "
                "the option out.",
            )
    excluded = select_ids(project, dag, args.exclude) if args.exclude else set()
    rest = frozenset(set(project.nodes) - excluded)
    if not args.nodes and not args.select:
        return Selection(None, rest, args.option)
    direct = select_ids(project, dag, args.nodes or args.select) - excluded
    if not direct:
        raise SelectionError(
            "The selection leaves no node to run (everything selected is excluded).",
            "Check --exclude; 'seeknal ls SELECTOR' lists what a selector names.",
        )
    if args.nodes:
        return Selection(frozenset(direct), rest if excluded else None, args.option)
    return Selection(frozenset(direct), frozenset(direct), args.option)


def within(dag: Dag, selection: Selection, candidates: Iterable[str]) -> set[str]:
    """The candidates (e.g. an env's planned nodes) the selection runs: the chosen ones, and
    with `--nodes` their downstream among the candidates."""
    pool = set(candidates)
    if selection.allowed is not None:
        pool &= selection.allowed
    if selection.direct is None:
        return pool
    if selection.option != "--nodes":
        return pool & selection.direct
    # the named nodes and their downstream, not through an excluded node
    reach: set[str] = set()
    for node_id in dag.order():
        if selection.allowed is not None and node_id not in selection.allowed:
            continue
        if node_id in selection.direct or any(up in reach for up in dag.parents[node_id]):
            reach.add(node_id)
    return reach & pool


def _one(project: Project, dag: Dag, term: str) -> set[str]:
    with_up, with_down = term.startswith("+"), term.endswith("+") and len(term) > 1
    core = term[1 if with_up else 0 : len(term) - (1 if with_down else 0)]
    if not core:
        raise SelectionError(f"Selector '{term}' names no node.", _HINT)
    found = _match(project, core)
    if not found:
        raise SelectionError(f"No node matches '{term}'.", _HINT)
    extra: set[str] = set()
    if with_up:
        extra |= dag.upstream(found)
    if with_down:
        extra |= dag.downstream(found)
    return found | extra


_HINT = (
    "Selectors: a node id or unique name, kind.*, tag:NAME, kind:KIND, path:FOLDER, with + "
    "before (upstream) or after (downstream); 'seeknal ls' lists the nodes."
)


def _match(project: Project, core: str) -> set[str]:
    method, sep, value = core.partition(":")
    if sep:
        if method not in METHODS:
            raise SelectionError(
                f"Unknown selector method '{method}:' in '{core}'.",
                f"Use one of {', '.join(m + ':' for m in METHODS)}, a node id or a glob.",
            )
        return _by_method(project, method, value)
    if GLOB_CHARS & set(core):
        return {n for n in project.nodes if fnmatch.fnmatchcase(n, core)}
    return {_by_name(project, core)}


def _by_method(project: Project, method: str, value: str) -> set[str]:
    nodes = project.nodes.values()
    if method == "tag":
        return {n.id for n in nodes if value in _tags(n.meta)}
    if method == "kind":
        return {n.id for n in nodes if str(n.kind) == value}
    folder = value.strip("/").removeprefix("./")
    return {
        n.id
        for n in nodes
        if n.file_path == folder or n.file_path.startswith(folder + "/") or not folder
    }


def _tags(meta: Mapping[str, object]) -> list[str]:
    tags = meta.get("tags") or []
    return [str(t) for t in tags] if isinstance(tags, list | tuple) else [str(tags)]


def node_id_of(project: Project, name: str) -> str:
    """The id of the node named by its id or its unique name; a clear error otherwise."""
    return _by_name(project, name.strip())


def _by_name(project: Project, name: str) -> str:
    if name in project.nodes:
        return name
    same = [n.id for n in project.nodes.values() if n.name == name]
    if len(same) == 1:
        return same[0]
    if same:
        raise SelectionError(
            f"'{name}' is the name of several nodes: {', '.join(sorted(same))}.",
            "Use the node id (kind.name).",
        )
    options = difflib.get_close_matches(name, list(project.nodes), n=3, cutoff=0.4)
    raise SelectionError(
        f"No node '{name}'" + (f"; did you mean {', '.join(options)}?" if options else "."),
        "Use node ids (kind.name) or unique node names; 'seeknal ls' lists them.",
    )
