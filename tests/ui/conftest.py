"""The browser tests' Dagster UI (``make dev`` on a free port) and Chromium, both shared."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.server import DagsterUI, running_dagster_ui

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a headless Chromium in a container with no GPU and no outside network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterUI]:
    """``make dev`` (emulator, sample warehouse, webserver and daemon) in a fresh Dagster home."""
    with running_dagster_ui(tmp_path_factory.mktemp("dagster_home")) as ui:
        yield ui


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, dagster_ui: DagsterUI) -> Iterator[object]:
    """A page with the onboarding dialog dismissed (shown once per Dagster home)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    opened.goto(f"{dagster_ui.url}/asset-groups")
    opened.get_by_text("Global asset lineage").wait_for()
    # Shown once per Dagster home: a later page finds it already dismissed.
    with contextlib.suppress(PlaywrightTimeout):
        opened.get_by_role("button", name="Skip").click(timeout=5_000)
    yield opened
    context.close()
