"""The fleet's page (`plan --all --format html`) in a real browser: what a person sees.

Headless Chromium (Debian's, installed by scripts/browser.sh) driven by Selenium with
Debian's chromedriver: the table's rows, the status filter, one chart bar per tenant,
and no error in the browser's console. Only the page's own file is loaded: it must need
no network.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.targets.sandbox.admin import init_sandbox
from tests.conftest import SEED

Cli = Callable[..., Result]


@pytest.fixture
def fleet(tmp_path: Path, cli: Cli) -> Path:
    """Three tenants: one in sync, one with changes (<b>bold</b> in a name), one failing."""
    shutil.copy(SEED, tmp_path / "seed.yaml")
    (tmp_path / "odd.yaml").write_text(
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, '<b>bold</b>']\n"
    )
    (tmp_path / "broken.yaml").write_text("crmconf: 1\nindustries:\n  - ${MISSING_VALUE}\n")
    urls = {name: init_sandbox(f"sqlite:///{tmp_path / name}.db", demo=True) for name in "abc"}
    project = tmp_path / "crmconf.yaml"
    project.write_text(
        textwrap.dedent(
            f"""\
            crmconf: 1
            tenants:
              - {{name: synced, target: "{urls["a"]}", config: seed.yaml}}
              - {{name: odd, target: "{urls["b"]}", config: odd.yaml}}
              - {{name: broken, target: "{urls["c"]}", config: broken.yaml}}
            """
        )
    )
    applied = cli("apply", tmp_path / "seed.yaml", "--target", urls["a"], "--yes")
    assert applied.exit_code == 0, applied.output
    return project


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        message = "chromium and chromedriver are missing: run scripts/browser.sh ensure as root"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium look for drivers online
    session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    session.set_page_load_timeout(30)
    try:
        yield session
    finally:
        session.quit()


def test_the_fleet_page_shows_every_tenant_filters_and_charts(
    cli: Cli, fleet: Path, browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import Select

    assert isinstance(browser, WebDriver)
    page = tmp_path / "fleet.html"
    result = cli("plan", "--all", "--project", fleet, "--format", "html", "-o", page)
    assert result.exit_code == 1  # one tenant failed; the page is written all the same
    assert "http://" not in page.read_text() and "https://" not in page.read_text()

    browser.get(page.as_uri())

    def visible_rows() -> dict[str, str]:
        rows = browser.find_elements(By.CSS_SELECTOR, "#tenants tbody tr")
        return {
            row.get_attribute("data-tenant") or "": row.find_element(By.CLASS_NAME, "status").text
            for row in rows
            if row.is_displayed()
        }

    assert visible_rows() == {"synced": "in sync", "odd": "changes", "broken": "error"}
    assert browser.find_element(By.ID, "verdict").text == "3 tenants: 1 in sync, 1 changes, 1 error"
    Select(browser.find_element(By.ID, "status-filter")).select_by_value("changes")
    assert visible_rows() == {"odd": "changes"}
    Select(browser.find_element(By.ID, "status-filter")).select_by_value("all")
    assert len(visible_rows()) == 3
    bars = browser.find_elements(By.CSS_SELECTOR, "#forecast-chart rect.bar")
    assert [bar.get_attribute("data-tenant") for bar in bars] == ["synced", "odd", "broken"]
    odd_plan = browser.find_element(By.CSS_SELECTOR, "details#plan-2 pre")
    assert '+ "<b>bold</b>"' in odd_plan.get_attribute("textContent")  # shown, not rendered
    assert browser.find_elements(By.CSS_SELECTOR, "b") == []
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_the_page_counts_the_api_requests_of_a_tenant_behind_an_api(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmconf.testing import FakeTwentyFour

    (tmp_path / "cats.yaml").write_text(
        "crmconf: 1\ncategories: [{name: Partner, show_on: both}]\n"
    )
    (tmp_path / "crmconf.yaml").write_text(
        "crmconf: 1\ntenants:\n  - {name: api, target: '24so://', config: cats.yaml}\n"
    )
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    with FakeTwentyFour() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        result = cli("plan", "--all", "--project", tmp_path / "crmconf.yaml", "--format", "html")
        sent = len(fake.calls)

    assert result.exit_code == 0, result.output
    assert f'<td class="number requests">{sent}</td>' in result.stdout
