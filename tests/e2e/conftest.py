"""Real-browser tests: Playwright driving Debian's Chromium (never a downloaded browser).

In CI a missing browser is a failure, not a skip. On a developer machine without
/usr/bin/chromium these tests are skipped with the reason (install it with
`apt-get install chromium`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CCHC_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI needs a browser for the e2e tests: {CHROMIUM} is missing.")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": FLAGS,
        "headless": True,
    }


@pytest.fixture(autouse=True)
def short_timeouts(request: Any) -> None:
    # A missing element should fail in seconds, not after Playwright's default 30 s.
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(10_000)


@pytest.fixture
def screenshot(page: Any) -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
