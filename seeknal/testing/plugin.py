"""The pytest plugin seeknal installs (entry point `pytest11`): `pytest --env dev` and the
`seeknal` fixture, SQL over every node of the project as env dev sees it, resolved exactly as
`seeknal query` resolves it (docs/testing-data.md).

pytest loads this module itself, and only this module of seeknal imports pytest, so pytest stays
optional for everything else. Nothing heavy is imported until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from seeknal.envs.read import DataSession


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("seeknal", "seeknal data tests")
    group.addoption(
        "--env",
        dest="seeknal_env",
        default=None,
        metavar="ENV",
        help="seeknal environment the `seeknal` fixture reads (default: the active env, as "
        "'seeknal env current' shows it; production on a production branch).",
    )
    group.addoption(
        "--seeknal-project",
        dest="seeknal_project",
        default=None,
        metavar="PATH",
        help="seeknal project folder (default: found from the current folder, else from the "
        "rootdir).",
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    env = config.getoption("seeknal_env")
    return f"seeknal: env {env}" if env else None


@pytest.fixture(scope="session")
def seeknal(request: pytest.FixtureRequest) -> Iterator[DataSession]:
    """SQL over every node with an output: `seeknal.scalar(...)`, `.rows(...)`, `.sql(...)`;
    a node is `ref('transform.orders')`, the view "transform.orders", or its bare name."""
    from seeknal.errors import SeeknalError

    problem: str | None
    try:
        session = _open(request.config)
    except SeeknalError as exc:
        problem = f"seeknal: {exc.message}\nNext: {exc.hint}"
    else:
        problem = None
    if problem is not None:
        # every test using the fixture reports this, without a traceback into seeknal
        pytest.fail(problem, pytrace=False)
    try:
        yield session
    finally:
        session.close()


def _open(config: pytest.Config) -> DataSession:
    from seeknal.context import Context
    from seeknal.envs.read import open_session
    from seeknal.git.active import resolve
    from seeknal.git.hook_support import settings_of

    root = _project(config)
    chosen = resolve(root, settings_of(root), config.getoption("seeknal_env"))
    return open_session(Context(root), chosen.env)


def _project(config: pytest.Config) -> Path:
    from seeknal.errors import SeeknalError
    from seeknal.project.files import PROJECT_FILE, find_root

    given = config.getoption("seeknal_project")
    if given:
        path = Path(given)
        if not (path / PROJECT_FILE).is_file():
            raise SeeknalError(
                f"{path} is not a seeknal project ({PROJECT_FILE} is missing).",
                "Pass the folder that holds seeknal_project.yml to --seeknal-project.",
            )
        return path.resolve()
    try:
        return find_root(Path.cwd())
    except SeeknalError:
        return find_root(config.rootpath)
