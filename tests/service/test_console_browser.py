"""The console end to end in a real headless Chromium (Debian's package, driven by
Playwright): sign in, see a routed batch, open a lead's history, filter without a reload,
edit a rep's capacity, preview a policy with an error and then a valid one.

Skipped, with the reason, when Playwright or /usr/bin/chromium is missing
(``.ci/ensure-chromium`` installs the browser). SQLite only: the TestClient tests cover
PostgreSQL, and one browser session is enough to prove the pages work in a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from console_support import TOKEN, console_app

from solver.app.console._local import browser_problem, launch_chromium, serve_in_background
from solver.app.service import Store, StoreSettings, ingest_leads

TERRITORY = ('[[rules]]\nname = "territory"\nkind = "equals"\nlead = "region"\n'
             'rep = "region"\n')

pytestmark = pytest.mark.skipif(browser_problem() is not None,
                                reason=browser_problem() or "")


@pytest.fixture
def page(tmp_path: Path) -> Iterator[tuple[Any, str, Store]]:
    from playwright.sync_api import sync_playwright

    store = Store(StoreSettings(url=f"sqlite:///{tmp_path / 'console.db'}"))
    try:
        with serve_in_background(console_app(store)) as base, sync_playwright() as pw:
            try:
                browser = launch_chromium(pw)
            except Exception as exc:  # a broken install is a reason, not a failure
                pytest.skip(f"Chromium at /usr/bin/chromium did not start: {exc}")
            context = browser.new_context()
            context.set_default_timeout(10_000)
            yield context.new_page(), base, store
            browser.close()
    finally:
        store.dispose()


def test_an_ops_manager_session(page: tuple[Any, str, Store]) -> None:
    from playwright.sync_api import expect

    tab, base, store = page
    tab.goto(base + "/")
    expect(tab).to_have_url(re.compile(r"/console/login"))
    tab.get_by_label("API token").fill("wrong")
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("alert")).to_contain_text("not the API token")
    tab.get_by_label("API token").fill(TOKEN)
    tab.keyboard.press("Enter")  # keyboard use: the form submits with Enter
    expect(tab.get_by_role("heading", name="Live board")).to_be_visible()

    # a routed batch
    tab.get_by_role("button", name="Route pending leads now").click()
    expect(tab.locator("#batch-report")).to_contain_text("6 pending leads → 6 assigned")
    board = tab.locator("#board-rows")
    expect(board.get_by_role("row")).to_have_count(7)  # header + 6 leads
    expect(board).to_contain_text("assigned")

    # filters refresh the rows in place (htmx), without a page load
    tab.evaluate("window.__same_page = true")
    tab.get_by_label("Status").select_option("pending")
    expect(board).to_contain_text("No leads match.")
    tab.get_by_label("Status").select_option("assigned")
    expect(board.get_by_role("row")).to_have_count(7)
    assert tab.evaluate("window.__same_page") is True

    # a lead's history
    tab.get_by_role("link", name="L03").click()
    expect(tab.get_by_role("heading", name="Lead L03")).to_be_visible()
    history = tab.get_by_role("table", name="History (audit log)")
    expect(history).to_contain_text("assigned")
    expect(history).to_contain_text("console-")

    # edit a rep's capacity
    tab.get_by_role("link", name="Reps").click()
    tab.get_by_label("Daily capacity (effort)").nth(1).fill("9")
    tab.get_by_role("button", name="Save R1").click()
    expect(tab.locator("#saved")).to_contain_text("R1")
    expect(tab.locator("#rep-R1")).to_contain_text("/ 9.0")
    expect(tab.get_by_role("table", name="Recent console changes")).to_contain_text(
        "rep.update")

    # preview a policy on newly arrived leads: an error in place, then a valid one
    ingest_leads(store, pd.DataFrame({"lead_id": ["N1", "N2", "N3", "N4"],
                                      "region": ["south", "south", "north", "south"]}))
    tab.get_by_role("link", name="Policy preview").click()
    tab.get_by_label("Policy TOML").fill("[fairness]\nbandd = 0.2\n")
    tab.get_by_role("button", name="Check and preview").click()
    expect(tab.locator("#policy-errors")).to_contain_text("fairness.bandd: unknown key")
    expect(tab.get_by_label("Policy TOML")).to_have_attribute("aria-invalid", "true")
    tab.get_by_label("Policy TOML").fill(TERRITORY)
    tab.get_by_role("button", name="Check and preview").click()
    expect(tab.locator("#preview")).to_contain_text("the model's estimate")
    expect(tab.locator("#preview-summary")).to_contain_text(
        re.compile(r"\d of 4 leads would get a different rep"))
    expect(tab.get_by_role("table", name="Effort per rep")).to_contain_text("R2")
    expect(tab.locator("#policy-errors")).to_have_count(0)

    # speed and SLA: the plots are real images
    tab.get_by_role("link", name="Speed & SLA").click()
    plot = tab.get_by_role("img", name=re.compile("median minutes to assignment"))
    expect(plot).to_be_visible()
    tab.wait_for_function("[...document.querySelectorAll('.charts img')]"
                          ".every(img => img.complete && img.naturalWidth > 0)")
