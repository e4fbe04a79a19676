"""The HTML report: one standalone, escaped page that a real browser renders cleanly.

The browser is headless Chromium (/usr/bin/chromium, or SEEKNAL_TEST_CHROMIUM); `make test`
installs it first when it can (tests/tools/ensure-chromium). When it cannot run, these tests
fail rather than skip: a page nobody has opened is not checked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import cli
from reportkit import ARTIFACTS, EXPECTED_CATEGORIES, edited_example, isolated_git

XSS = "<script>alert(1)</script>"
CHROMIUM = os.environ.get("SEEKNAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("html")
    with isolated_git(folder):
        root = edited_example(folder / "shop", added_description=f"Revenue {XSS} per category")
        out = folder / "plan.html"
        res = cli(root, "plan", "dev", "--format", "html", "--output", out)
        assert res.exit_code == 0, res.output
    return {"root": root, "path": out, "html": out.read_text(encoding="utf-8")}


class Collector(HTMLParser):
    """Tags with their attributes, and the text inside <svg>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.svg_depth = 0
        self.svg_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "svg":
            self.svg_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svg_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.svg_depth:
            self.svg_text.append(data)


def label(node_id: str) -> str:
    """How the SVG draws a node id (long ids are cut)."""
    return node_id if len(node_id) <= 30 else node_id[:28] + "…"


def test_page_is_standalone_with_an_inline_svg_dag(page: dict[str, Any]) -> None:
    html = page["html"]
    assert html.startswith("<!DOCTYPE html>")
    parsed = Collector()
    parsed.feed(html)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("svg") == 1
    # nothing is fetched: no scripts, stylesheets, images or frames, no links elsewhere
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        for name in ("src", "href", "srcset", "data"):
            assert name not in attrs, (tag, attrs)
    assert not re.search(r"\b(?:src|href)\s*=", html)
    assert "@import" not in html and "url(" not in html
    # the DAG: every affected node and the unchanged parents, drawn with their labels
    svg_text = set(parsed.svg_text)
    for node_id in [*EXPECTED_CATEGORIES, "source.web_events", "transform.stg_orders"]:
        assert label(node_id) in svg_text, node_id
        assert f"<title>{node_id} (" in html


def test_descriptions_are_escaped(page: dict[str, Any]) -> None:
    html = page["html"]
    assert "Revenue &lt;script&gt;alert(1)&lt;/script&gt; per category" in html
    assert XSS not in html
    assert "<script" not in html.lower()


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert Path(CHROMIUM).is_file() and shutil.which(CHROMIUM), (
        f"Chromium is missing ({CHROMIUM}): the HTML report is checked in a headless Chromium. "
        "Install it: sudo apt-get install -y chromium (`make check` does it when run as root), "
        "or set SEEKNAL_TEST_CHROMIUM to a Chromium or Chrome executable."
    )
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.iterdir()))}"
    proc = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc


def console_messages(stderr: str) -> list[str]:
    """What the page itself logged: console calls and uncaught errors."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_console_capture_sees_page_errors(tmp_path: Path) -> None:
    # the check below is only worth something if a broken page is caught
    probe = tmp_path / "probe.html"
    probe.write_text(
        "<!DOCTYPE html><p>probe</p><script>console.error('probe-error'); missingFn();</script>"
    )
    proc = chromium(tmp_path, "--dump-dom", probe.as_uri())
    messages = console_messages(proc.stderr)
    assert any("probe-error" in m for m in messages), proc.stderr[-3000:]
    assert any("Uncaught ReferenceError" in m for m in messages), proc.stderr[-3000:]


def test_chromium_renders_the_page_without_errors(page: dict[str, Any], tmp_path: Path) -> None:
    uri = page["path"].as_uri()
    dom = chromium(tmp_path, "--dump-dom", uri)
    assert console_messages(dom.stderr) == []
    rendered = dom.stdout
    assert "<svg" in rendered
    for node_id in EXPECTED_CATEGORIES:
        assert label(node_id) in rendered, node_id
        assert f"<code>{node_id}</code>" in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report_example.png"
    screenshot.unlink(missing_ok=True)
    shot = chromium(tmp_path, f"--screenshot={screenshot}", "--window-size=1400,1000", uri)
    assert console_messages(shot.stderr) == []
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 1000)
    assert len(data) > 20_000  # a blank page compresses to a few KB
