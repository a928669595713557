"""The served site in a real browser (Debian's chromium through Playwright): search finds a
Japanese clause, the record page marks the 15-year support period, and markup planted in a
record never runs. Screenshots go to test-artifacts/.

Needs /usr/bin/chromium, the playwright package (never `playwright install`: the system
browser is used) and policy-kb installed (its Datasette entry point). Without them the test
is skipped, except under CI (CI set), where it fails: CI installs all three.

KB_SCREENSHOTS=docs writes the README's screenshots (docs/screenshot-*.png) instead.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.helpers import PIPELINE, REPO, SEEDS, free_port, hostile_copy, shared, stop_group

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("KB_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "test-artifacts"
DOCS = REPO / "docs"
README_SHOTS = {"search.png", "record.png", "compare.png", "records.png"}


def missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure rather than a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        missing(f"no chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    if importlib.util.find_spec("playwright") is None:
        missing("the playwright package is not installed (pip install playwright; the system chromium is used)")
    if not [e for e in importlib.metadata.entry_points(group="datasette") if e.value == "kb.plugin"]:
        missing("policy-kb is not installed (pip install -e .), so Datasette would not load its plugin")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def serve(tmp: Path, folder: Path):
    """`policy-kb serve` over `folder` on a free loopback port; yields the base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    log = open(tmp / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", str(folder), "--db", str(tmp / "kb.db"),
                             "--host", "127.0.0.1", "--port", str(port)],
                            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a readiness wait (the first build runs MeCab), not a timing check
        while True:
            try:
                if httpx.get(f"{base}/-/plugins.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"policy-kb serve did not answer (exit {proc.poll()}):\n{log.read()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        stop_group(proc, log)  # serve and the Datasette it started share this group


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    tmp = tmp_path_factory.mktemp("site")
    shutil.copytree(SEEDS, tmp / "records")
    yield from serve(tmp, tmp / "records")


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory, browser):
    """A second site, so the planted record stays out of the screenshots of the first."""
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "records").mkdir()
    hostile_copy(tmp / "records")
    yield from serve(tmp, tmp / "records")


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1200, "height": 800}, locale="ja-JP")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    dialogs = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    ctx.close()


def shot(page, name: str) -> None:
    if os.environ.get("KB_SCREENSHOTS") == "docs" and name in README_SHOTS:
        page.screenshot(path=str(DOCS / f"screenshot-{name}"))
        return
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


@pytest.fixture(scope="module")
def hub_site(tmp_path_factory, browser):
    """The hub's records (zh and en) beside the seeds: enough policies to compare."""
    hub = shared("peer", "ccus-policy-hub")
    tmp = tmp_path_factory.mktemp("hub")
    for lang in ("en", "zh"):
        shutil.copytree(hub / lang, tmp / "records" / lang)
    shutil.copytree(SEEDS, tmp / "records" / "seeds")
    yield from serve(tmp, tmp / "records")


def test_search_page_finds_the_clause(site, page):
    page.goto(f"{site}/kb/search?q={quote('事業継続義務')}")
    cell = page.locator("td.col-text", has_text="支援期間は15年とし、その支援期間終了後に10年間の事業継続義務を")
    assert cell.count() == 1
    marks = page.locator("td.col-snippet mark")
    assert marks.count() >= 2 and marks.first.inner_text() == "事業継続義務"
    shot(page, "search.png")


def test_search_hit_clause_measure_and_back(site, page):
    """search -> hit -> its clause on the record page -> the measure's page -> back to the clause."""
    page.goto(f"{site}/kb/search?q={quote('事業継続義務')}")
    hit = page.locator("tr", has=page.locator("td.col-text", has_text="支援期間は15年とし")).locator("td.col-record a")
    hit.click()
    page.wait_for_load_state("load")
    anchor = page.evaluate("location.hash.slice(1)")
    assert page.url.startswith(f"{site}/-/records/{PIPELINE}#c-")
    clause = page.locator(f"[id='{anchor}']")
    assert "支援期間は15年とし" in clause.inner_text()
    assert page.evaluate("document.querySelector(':target').id") == anchor
    assert clause.bounding_box()["y"] < 800  # scrolled into view
    clause.locator("mark.kb-measure a", has_text="15年").first.click()
    page.wait_for_load_state("load")
    assert "/kb/measures/" in page.url
    box = page.locator("section.kb-in-clause")
    assert box.locator("mark.kb-measure").first.inner_text() == "15年"
    assert "支援期間は15年とし" in box.inner_text()
    box.locator("a.kb-back-to-clause").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/-/records/{PIPELINE}#{anchor}")
    assert page.evaluate("document.querySelector(':target').id") == anchor


def test_compare_page_draws_the_chart(hub_site, page):
    page.goto(f"{hub_site}/-/compare?role=target_capacity")
    chart = page.locator("svg.kb-chart").first
    assert chart.is_visible()
    bars = page.locator("svg.kb-chart rect.kb-bar")
    assert bars.count() >= 5 and all(bars.nth(i).bounding_box()["width"] >= 1 for i in range(bars.count()))
    assert page.locator("table.kb-compare tbody tr").count() == bars.count()
    assert page.locator("a.kb-csv").get_attribute("href").endswith("/-/compare.csv?role=target_capacity")
    shot(page, "compare.png")
    page.goto(f"{hub_site}/kb/records")
    assert page.locator("table.rows-and-columns tbody tr").first.bounding_box()["y"] < 800  # rows on the first screen
    assert not page.locator("dl.column-descriptions").is_visible()
    shot(page, "records.png")


def test_record_page_marks_the_support_period(site, page):
    page.goto(f"{site}/-/records/{PIPELINE}")
    mark = page.locator("mark.kb-measure", has_text="15年").first
    mark.scroll_into_view_if_needed()
    assert "15年" in mark.inner_text()
    assert "/kb/measures/" in mark.locator("a").get_attribute("href")
    page.evaluate("window.scrollBy(0, -200)")
    shot(page, "record.png")


@pytest.mark.parametrize("path", ["/-/records/jp-hostile-copy.md", "/kb/search?q=pwned", "/kb/records",
                                  "/kb/search_titles?q=Hostile"])
def test_planted_markup_never_runs(hostile_site, page, path):
    page.goto(hostile_site + path)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # give an onerror handler the time it would need
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []
    assert page.locator("body").inner_text().count("<script>window.__pwned=1</script>") >= 1
    if path.startswith("/-/records/"):
        assert page.locator("h1.kb-title").inner_text().startswith("Hostile <script>")
        shot(page, "hostile.png")
