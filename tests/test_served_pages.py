"""The plugin's pages answer the same on every Datasette version we support.

The repository's seeds are built and served the way `policy-kb serve` serves them (the shipped
metadata laid out for the installed version, kb.plugin.versions); what each page shows - the
rows of a search, the fields, clauses and measures of a record page, the rows and chart of the
compare page - is read out of its HTML and compared with tests/cases/served_pages.json, written
on Datasette 0.65.5. The normal suite checks 0.65; README ("Datasette 1.0") gives the command
that runs this file on 1.0a in a venv of its own, where the same file must come out.

Regenerate the case file (on 0.65.5, after a deliberate change to a page):
    .venv/bin/python -m tests.test_served_pages --write
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from datasette.app import Datasette

from kb.plugin.versions import DATASETTE_VERSION, served
from kb.publish import SETTINGS, build

REPO = Path(__file__).resolve().parents[1]
CASE_FILE = Path(__file__).resolve().parent / "cases" / "served_pages.json"

# Each page, and where its content is: the results table of a query page (Datasette's own
# template around it differs between versions), or the content section our template fills.
PAGES = {
    "search ja": ("/kb/search?q=" + quote("先払い"), "rows"),
    "search zh": ("/kb/search?q=" + quote("资助"), "rows"),
    "search role word": ("/kb/search?q=" + quote("support period"), "rows"),
    "search records": ("/kb/search_titles?q=CCS", "rows"),
    "records by country": ("/kb/records_by_country?country=" + quote("日本"), "rows"),
    "record ja": ("/-/records/jp-ccs-pipeline-support-interim-draft-2026.md", "content"),
    "record zh": ("/-/records/jp-jogmec-advanced-ccs-2024.md", "content"),
    "compare": ("/-/compare?role=support_period", "content"),
    "compare by name": ("/-/compare?role=" + quote("支援期間"), "content"),
}


class _Content(HTMLParser):
    """Text and link targets inside the elements a page's content is in: each <tr> of
    table.rows-and-columns ("rows"), or section.content ("content"), one line per block."""

    BLOCKS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "dt", "dd", "pre", "section", "details", "summary", "br", "text"}

    def __init__(self, kind: str):
        super().__init__(convert_charrefs=True)
        self.kind, self.depth, self.lines, self.line = kind, 0, [], []
        self.skip = 0  # inside <style> or <script>: not content

    def _opens(self, tag: str, attrs: dict) -> bool:
        if self.kind == "rows":
            return tag == "table" and "rows-and-columns" in (attrs.get("class") or "").split()
        return tag == "section" and attrs.get("class") == "content"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            self.depth += tag not in ("br", "img", "input", "meta", "link")
            if tag in ("style", "script"):
                self.skip += 1
            if tag in self.BLOCKS:
                self._flush()
            if tag == "a" and attrs.get("href"):
                self.line.append(f"<{attrs['href']}>")
            if tag in ("td", "th"):
                self.line.append("|")
        elif self._opens(tag, attrs):
            self.depth = 1

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag in ("style", "script"):
            self.skip -= 1
        if tag not in ("br", "img", "input", "meta", "link"):
            self.depth -= 1
        if tag in self.BLOCKS or not self.depth:
            self._flush()

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.line.append(data)

    def _flush(self):
        text = re.sub(r"\s+", " ", "".join(self.line)).strip()
        if text.strip("| "):
            self.lines.append(text)
        self.line = []


def content(html: str, kind: str) -> list[str]:
    """The page's lines, with the checkout's own path written as <repo> (the record page shows the
    file's path, which differs from one clone to the next)."""
    parser = _Content(kind)
    parser.feed(html)
    parser.close()
    return [line.replace(str(REPO), "<repo>") for line in parser.lines]


def serve_pages(db: Path) -> dict[str, dict]:
    """Status and content of every page, from one Datasette configured as `serve` configures it."""
    async def fetch():
        ds = Datasette([str(db)], settings=SETTINGS, **served("kb").datasette_kwargs())
        found = {}
        for name, (path, kind) in PAGES.items():
            resp = await ds.client.get(path, headers={"accept-language": "en"})
            found[name] = {"path": path, "status": resp.status_code, "content": content(resp.text, kind)}
        return found

    return asyncio.run(fetch())


def build_seeds(folder: Path) -> Path:
    db = folder / "kb.db"
    build([REPO / "seeds"], db)
    return db


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, dict]:
    return serve_pages(build_seeds(tmp_path_factory.mktemp("served")))


@pytest.fixture(scope="module")
def expected() -> dict[str, dict]:
    return json.loads(CASE_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", list(PAGES))
def test_page_shows_what_it_shows_on_0_65(pages, expected, name):
    got, want = pages[name], expected[name]
    assert got["status"] == 200, f"{got['path']} on Datasette {DATASETTE_VERSION}"
    assert want["content"], "the case file holds what the page shows"
    assert got["content"] == want["content"], f"{got['path']} on Datasette {DATASETTE_VERSION}"


def test_the_case_file_covers_every_page(expected):
    assert set(expected) == set(PAGES)
    assert all(expected[name]["path"] == path for name, (path, _) in PAGES.items())


def test_the_content_reader_sees_rows_and_sections():
    html = ('<section class="content"><h1>T</h1><style>x{}</style><p>a <a href="/x">b</a></p></section>'
            '<table class="rows-and-columns"><tr><th>h</th></tr><tr><td>1</td><td><a href="/r">r</a></td></tr></table>')
    assert content(html, "content") == ["T", "a </x>b"]
    assert content(html, "rows") == ["|h", "|1|</r>r"]


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        found = serve_pages(build_seeds(Path(tmp)))
    bad = {name: p["status"] for name, p in found.items() if p["status"] != 200}
    if bad:
        sys.exit(f"pages not answering 200 on Datasette {DATASETTE_VERSION}: {bad}")
    CASE_FILE.write_text(json.dumps(found, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CASE_FILE} from Datasette {DATASETTE_VERSION}")
