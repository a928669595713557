"""A synthetic corpus of policy records for benchmarks, generated from a seed.

    python bench/corpus.py --records 1000 --out bench/out/corpus-1000 [--seed 1]

The texts are recombined from sentences that already live beside the code: the seed records,
the Markdown fixtures under tests/cases, the example texts of tests/cases/quantities.tsv and, for
English, ../shared/peer/policy-gold/docs/14_*.txt when that folder exists. Those sources are read
when the corpus is generated and never copied into the repository. Nothing here imports `kb`, so
the generator keeps working while the library changes under it.

What comes out
- N record files: about 40% Japanese, 40% Chinese, 20% English primaries at the top of DIR, and
  for ~30% of ids a translation twin with the same id in `zh/` or `en/`.
- Body lengths drawn from a log-normal distribution (median 3,000 characters) and clipped to
  300..100,000, so most records are short and a few are very long, as in real collections.
- JSON frontmatter in most files (three layouts), YAML in about one in ten.
- Countries, categories, statuses, legal weights and review statuses written as labels of the
  record's own language, taken from kb/data/vocab/*.json. Years 2000..2026, pubDate agreeing.
- About 1% of files (at least one of each kind once N >= 20) broken on purpose: an unknown
  category, a missing required field, an id that differs from the file name, unparsable YAML.
  `DIR/.manifest.json` lists them with the rule `policy-kb validate` must report.

The same seed and the same source texts give byte-identical output; the manifest records a digest
of the sources so a consumer can tell when a cached corpus is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GENERATOR = "4"  # bump whenever the output for a given seed changes on purpose
# The quantity examples are one-line figures ("15年間", "2000万吨"): drawn as often as prose they made
# two sentences in three a figure and the corpus ~2-6x denser in measures than real policy text
# (25.6 measures per 1,000 characters against 8.7 in the seeds, 4.2 in the hub records and 15.2 in
# the statute passages of policy-gold, which were chosen for their measures). Drawn this often,
# the corpus lands between the seeds and policy-gold (see docs/benchmarks.md, measures/kchar).
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kb.scripts import HAN_RX, KANA_RX

PEER_DOCS = REPO.parent / "shared" / "peer" / "policy-gold" / "docs"
MANIFEST = ".manifest.json"

MIN_CHARS, MAX_CHARS = 300, 100_000
MEDIAN_CHARS, SIGMA = 3_000, 1.1
LANG_WEIGHTS = {"ja": 0.4, "zh": 0.4, "en": 0.2}
TWIN_SHARE = 0.3
YAML_SHARE = 0.1
INVALID_SHARE = 0.01
INVALID_KINDS = {  # kind -> the rule `policy-kb validate` reports for it
    "bad-category": "vocab.unknown",
    "missing-field": "schema.required",
    "id-mismatch": "corpus.id-filename",
    "broken-yaml": "load.syntax",
}

# --- source texts --------------------------------------------------------------------------------

_LATIN = re.compile("[A-Za-z]")
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff\ufffd]")
_ITEM = re.compile(
    r"^(?:[-*+]\s+|[・●○■◆➤]\s*|\(?[0-9０-９]+[).）]\s+|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十0-9０-９]+[）)]\s*)"
)
_FIELD = re.compile(r"^[A-Za-z_][\w.]*:(\s|$)")
_SPLIT = re.compile(r"(?<=[。！？])|(?<=[.!?;])\s+(?=[A-Z(])")
FIGURE_SHARE = 0.12
MAX_SOURCE_BYTES = 256 * 1024  # a fixture larger than this is a stress input, not prose
# Fixture folders of hostile inputs (bidi tricks, HTML soup, formula-only bodies): they test that
# the tools survive, and would make the benchmark's prose unlike real policy text.
EXCLUDED_FIXTURES = {"bad"}


def _lang_of(text: str) -> str | None:
    if KANA_RX.search(text):
        return "ja"
    if HAN_RX.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return None


def _strip_frontmatter(text: str) -> str:
    if text.startswith("---"):
        parts = re.split(r"^---[ \t]*$", text, maxsplit=2, flags=re.M)
        if len(parts) == 3:
            return parts[2]
    return text


@dataclass
class Pool:
    """Units of one language, by kind, in the order first seen (duplicates dropped)."""

    sentences: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # the quantity examples of tests/cases/quantities.tsv

    def sentence(self, r: random.Random) -> str:
        """A prose sentence, or now and then a quantity example (see FIGURE_SHARE)."""
        if self.figures and r.random() < FIGURE_SHARE:
            return r.choice(self.figures)
        return r.choice(self.sentences)


def _units(text: str, *, comments: bool = False):
    """(kind, text) units of a document: headings, list items and sentences."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or len(line) > 4000 or _UNWANTED.search(line):
            continue
        if line.startswith(("|", "```", "---", "<", "===")) or " | " in line or _FIELD.match(line):
            continue  # tables, fences, rules, HTML blocks and stray `key: value` lines
        if line.startswith("#"):
            if comments:
                continue  # the peer texts use `#` lines for their own provenance notes
            title = line.lstrip("#").strip().rstrip("#").strip()
            if title:
                yield "heading", title
            continue
        if _ITEM.match(line):
            yield "item", _ITEM.sub("", line, count=1).strip()
            continue
        for piece in _SPLIT.split(line):
            piece = piece.strip()
            if len(piece) >= 4:
                yield "sentence", piece


def source_files() -> list[tuple[str, Path]]:
    """(stable name, path) of every source text, in a fixed order."""
    out = [(f"seeds/{p.name}", p) for p in sorted((REPO / "seeds").glob("*.md"))]
    cases = REPO / "tests" / "cases"
    out += [(p.relative_to(REPO).as_posix(), p) for p in sorted(cases.rglob("*.md"))
            if not EXCLUDED_FIXTURES.intersection(p.relative_to(cases).parts[:-1])]
    if (cases / "quantities.tsv").is_file():
        out.append(("tests/cases/quantities.tsv", cases / "quantities.tsv"))
    if PEER_DOCS.is_dir():
        out += [(f"shared/peer/policy-gold/docs/{p.name}", p) for p in sorted(PEER_DOCS.glob("14_*.txt"))]
    return out


def load_sources() -> tuple[dict[str, Pool], dict[str, str]]:
    """Pools of units per language and {source name: sha256} of what was read."""
    pools = {lang: Pool() for lang in LANG_WEIGHTS}
    seen: set[tuple[str, str]] = set()
    digests: dict[str, str] = {}
    for name, path in source_files():
        try:
            data = path.read_bytes()
            if len(data) > MAX_SOURCE_BYTES:
                continue
            text = data.decode("utf-8").removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError):
            continue  # e.g. the not-UTF-8 validation fixture
        digests[name] = hashlib.sha256(data).hexdigest()
        if name.endswith(".tsv"):
            rows = text.splitlines()[1:]
            units = (("sentence", row.split("\t", 1)[0].strip()) for row in rows)
        else:
            units = _units(_strip_frontmatter(text) if name.endswith(".md") else text, comments=name.endswith(".txt"))
        for kind, unit in units:
            lang = _lang_of(unit)
            if lang is None or (kind, unit) in seen or _UNWANTED.search(unit) or not unit:
                continue
            seen.add((kind, unit))
            kind = "figure" if name.endswith(".tsv") else kind
            getattr(pools[lang], {"sentence": "sentences", "heading": "headings", "item": "items", "figure": "figures"}[kind]).append(unit)
    for lang, pool in pools.items():
        pool.headings += [h for h in _HEADINGS[lang] if h not in pool.headings]
        if not pool.sentences:
            pool.sentences = list(_FALLBACK[lang])
        if not pool.items:
            pool.items = pool.sentences[:20]
    return pools, digests


def sources_digest(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


# A few headings and sentences of our own, so every language has something to work with even when
# the fixtures change shape.
_HEADINGS = {
    "ja": ["概要", "目的", "支援措置の内容", "対象事業", "事業者の義務", "監督及び報告", "附則", "今後の検討事項"],
    "zh": ["政策概览", "适用范围", "支持措施", "监督管理", "法律责任", "附则", "实施安排", "主要目标"],
    "en": ["Overview", "Scope", "Support measures", "Obligations of operators", "Monitoring and reporting",
           "Penalties", "Transitional provisions", "Next steps"],
}
_FALLBACK = {
    "ja": ["貯留事業者は、毎年度、貯留量を報告しなければならない。", "支援期間は十五年とする。"],
    "zh": ["封存单位应当每年报告封存量。", "补贴期限不超过十年。"],
    "en": ["Operators shall report the stored volume every year.", "The support period is fifteen years."],
}

# --- metadata ------------------------------------------------------------------------------------

TOPICS = [  # slug, en, zh, ja
    ("ccs-act", "Carbon Capture and Storage Act", "二氧化碳捕集与封存法", "二酸化炭素の貯留事業に関する法律"),
    ("storage-permit", "Storage Permit Rules", "封存许可管理办法", "貯留事業許可の基準"),
    ("capture-subsidy", "Capture Subsidy Programme", "碳捕集补贴计划", "分離回収設備への補助制度"),
    ("pipeline-support", "Pipeline Support Measures", "管道运输支持措施", "パイプライン輸送の支援措置"),
    ("mrv-guideline", "Monitoring, Reporting and Verification Guideline", "监测报告与核查指南", "モニタリング・報告・検証の指針"),
    ("carbon-market", "Carbon Market Rules", "碳市场交易规则", "カーボン市場の取引規則"),
    ("tax-credit", "Tax Credit for Stored CO2", "封存二氧化碳税收抵免", "貯留CO2に対する税額控除"),
    ("hub-strategy", "CCS Hub Strategy", "CCS枢纽发展战略", "CCSハブ戦略"),
    ("liability-transfer", "Long-term Liability Transfer", "长期责任转移规定", "長期責任の移転に関する規定"),
    ("cross-border", "Cross-border CO2 Transport", "二氧化碳跨境运输规定", "CO2の越境輸送に関する規則"),
    ("roadmap", "CCUS Roadmap", "CCUS发展路线图", "CCUSロードマップ"),
    ("accounting", "Storage Accounting Methodology", "封存量核算方法学", "貯留量算定方法論"),
]
COMMON_COUNTRIES = {"JP": 18, "CN": 18, "US": 8, "EU": 6, "GB": 5, "NO": 4, "AU": 4, "CA": 4, "KR": 4, "TW": 3,
                    "DE": 3, "NL": 3, "INT": 3, "ID": 2, "MY": 2, "SG": 2, "TH": 2, "BR": 2, "DK": 2}
OTHER_COUNTRIES_WEIGHT = 7
SOURCES = ["METI", "JOGMEC", "MOE", "MEE", "NDRC", "DESNZ", "EPA", "DOE", "European Commission", "Gassnova",
           "DCCEEW", "MOTIE", "NEA", "Environment and Climate Change Canada", "Danish Energy Agency"]
CLUSTERS = ["GX Strategy", "CCS Value Chain", "Carbon Management", "Hydrogen and CCS", "Net Zero 2050",
            "Asia Zero Emission Community (AZEC)", "Industrial Decarbonisation", "Storage Licensing"]
DIMENSIONS = ["incentive", "market", "mrv", "statutory", "strategic", "technical"]
VERDICTS = ["Strong Capex Support", "Partial Coverage", "Clear Licensing Path", "Weak Enforcement",
            "Emerging Market Design", "Robust Monitoring", "Early Stage", "Comprehensive Framework"]
REGULATORY = ["co2_definition", "cross_border_rules", "financial_assurance", "liability_period",
              "liability_transfer", "permitting_lead_time", "pore_space_rights"]
REVIEW_KEYS = ["verified", "unreviewed", "draft", "in_review"]
REVIEWERS = ["", "J. Tanaka", "L. Wang", "A. Smith", "Human Audit Pending"]
MISSPELT = {"ja": "法規製", "zh": "经济激历", "en": "Regulatroy"}


def _vocab(name: str) -> dict[str, dict[str, str]]:
    """{key: {lang: label}} for the labels that name exactly one term in the vocabulary file."""
    data = json.loads((REPO / "kb" / "data" / "vocab" / f"{name}.json").read_text(encoding="utf-8"))
    owners: dict[str, set[str]] = {}
    for term in data["terms"]:
        texts = list(term.get("labels", {}).values()) + [a for v in term.get("aliases", {}).values() for a in v]
        for text in texts + term.get("codes", []) + [term["key"]]:
            owners.setdefault(text.casefold(), set()).add(term["key"])
    out: dict[str, dict[str, str]] = {}
    for term in data["terms"]:
        labels = {lang: label for lang, label in term.get("labels", {}).items() if len(owners[label.casefold()]) == 1}
        if all(lang in labels for lang in LANG_WEIGHTS):
            out[term["key"]] = labels
    return out


@dataclass
class Vocabs:
    country: dict
    category: dict
    status: dict
    legal_weight: dict
    review_status: dict

    @classmethod
    def load(cls) -> Vocabs:
        return cls(*(_vocab(n) for n in ("countries", "categories", "statuses", "legal_weights", "review_statuses")))


# --- generation ----------------------------------------------------------------------------------


def _length(r: random.Random) -> int:
    return int(min(MAX_CHARS, max(MIN_CHARS, r.lognormvariate(math.log(MEDIAN_CHARS), SIGMA))))


def make_body(r: random.Random, pool: Pool, lang: str, target: int) -> str:
    """Sections of paragraphs and lists, recombined from the pool, of about `target` characters."""
    joiner = " " if lang == "en" else ""
    out: list[str] = []
    size = 0
    while size < target:
        if not out or r.random() < 0.15:
            block = f"{'#' * r.choice((2, 2, 3))} {r.choice(pool.headings)}"
        elif r.random() < 0.15:
            marker = r.choice(("- ", "- ", "* ", "1. ")) if lang == "en" else r.choice(("- ", "・", "（1）", "一、"))
            block = "\n".join(marker + r.choice(pool.items) for _ in range(r.randint(2, 5)))
        else:
            block = joiner.join(pool.sentence(r) for _ in range(r.randint(1, 6)))
        out.append(block)
        size += len(block) + 2
    body = "\n\n".join(out) + "\n"
    if len(body) > MAX_CHARS:
        cut = body.rfind("\n", 0, MAX_CHARS - 1)
        body = body[: cut if cut > MIN_CHARS else MAX_CHARS - 1] + "\n"
    return body


@dataclass
class Shared:
    """Language-independent facts of one id, which a record and its translation must agree on."""

    n: int
    country: str
    category: str
    status: str
    legal_weight: str | None
    review: str
    year: int
    pub_date: str
    url: str
    source: str
    topic: tuple
    scores: dict
    clusters: list
    supersedes: list
    facilities: list
    regulatory: list
    impact: bool
    description: bool
    reviewer: str
    audit_date: str
    layout: int  # 0..2 JSON layouts; 3 YAML
    invalid: str | None = None

    @property
    def id(self) -> str:
        return f"{self.country.lower()}-{self.topic[0]}-{self.year}-{self.n:05d}"


def _pick_country(r: random.Random, countries: dict) -> str:
    common = [c for c in COMMON_COUNTRIES if c in countries]
    others = sorted(set(countries) - set(common))
    weights = [COMMON_COUNTRIES[c] for c in common] + [OTHER_COUNTRIES_WEIGHT]
    pick = r.choices(common + ["*"], weights)[0]
    return r.choice(others) if pick == "*" else pick


def _shared(r: random.Random, n: int, v: Vocabs, known_ids: list[str]) -> Shared:
    year = 2000 + int(27 * r.random() ** 0.6)
    year = min(year, 2026)
    month, day, shape = r.randint(1, 12), r.randint(1, 28), r.random()
    pub = (f"{year}-{month:02d}-{day:02d}" if shape < 0.7 else f"{year}-{month:02d}" if shape < 0.8
           else str(year) if shape < 0.85 else "")
    country = _pick_country(r, v.country)
    topic = r.choice(TOPICS)
    dims = r.sample(DIMENSIONS, r.randint(2, 6)) if r.random() < 0.4 else []
    supersedes = r.sample(known_ids[-50:], 1) if known_ids and r.random() < 0.1 else []
    s = Shared(
        n=n, country=country, category=r.choice(sorted(v.category)), status=r.choice(sorted(v.status)),
        legal_weight=r.choice(sorted(v.legal_weight)) if r.random() < 0.6 else None,
        review=r.choice(REVIEW_KEYS), year=year, pub_date=pub, url="", source=r.choice(SOURCES), topic=topic,
        scores={d: r.randint(0, 100) for d in dims},
        clusters=r.sample(CLUSTERS, r.randint(1, 3)) if r.random() < 0.2 else [],
        supersedes=supersedes,
        facilities=[f"Facility {r.randint(1, 400)}" for _ in range(r.randint(1, 3))] if r.random() < 0.1 else [],
        regulatory=r.sample(REGULATORY, r.randint(1, 4)) if r.random() < 0.2 else [],
        impact=r.random() < 0.3, description=r.random() < 0.2, reviewer=r.choice(REVIEWERS),
        audit_date=f"{r.randint(2024, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}" if r.random() < 0.5 else "",
        layout=3 if r.random() < YAML_SHARE else r.choice((0, 0, 1, 2)),
    )
    if r.random() > 0.05:
        s.url = f"https://policy.example/{country.lower()}/{s.id}"
    return s


def _title(s: Shared, lang: str, v: Vocabs) -> str:
    name = v.country[s.country][lang]
    slug, en, zh, ja = s.topic
    if lang == "ja":
        return f"{name}の{ja}（{s.year}年）"
    if lang == "zh":
        return f"{name}{zh}（{s.year}年）"
    return f"{name}: {en} ({s.year})"


def _meta(r: random.Random, s: Shared, lang: str, v: Vocabs, pool: Pool, *, with_lang: bool) -> dict:
    def sentence() -> str:
        return pool.sentence(r)

    meta: dict = {"id": s.id}
    if with_lang:
        meta["lang"] = lang
    meta.update({
        "title": _title(s, lang, v), "country": v.country[s.country][lang], "category": v.category[s.category][lang],
        "status": v.status[s.status][lang],
    })
    if s.legal_weight:
        meta["legalWeight"] = v.legal_weight[s.legal_weight][lang]
    meta.update({"pubDate": s.pub_date, "year": s.year, "source": s.source, "url": s.url,
                 "reviewStatus": s.review if r.random() < 0.7 else v.review_status[s.review][lang]})
    if s.description:
        meta["description"] = sentence()
    meta["provenance"] = {"author": "policy-kb bench corpus", "reviewer": s.reviewer, "lastAuditDate": s.audit_date}
    if s.scores:
        meta["analysis"] = {d: {"label": r.choice(VERDICTS), "score": score, "evidence": sentence(),
                                "citation": r.choice(("", f"{s.source} {s.year}", f"Art. {r.randint(1, 80)}"))}
                            for d, score in s.scores.items()}
    if s.regulatory:
        meta["regulatory"] = {k: sentence() for k in s.regulatory}
    if s.clusters or s.supersedes:
        meta["evolution"] = {"clusters": s.clusters, "supersedes": s.supersedes}
    if s.impact:
        meta["impactAnalysis"] = {k: sentence() for k in ("economic", "environmental", "technical")}
    if s.facilities:
        meta["relatedFacilities"] = s.facilities
    return meta


def _frontmatter(meta: dict, layout: int) -> str:
    if layout == 0:
        return json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True)
    if layout == 1:
        return json.dumps(meta, ensure_ascii=False, indent=2)
    if layout == 2:
        return json.dumps(meta, ensure_ascii=False)
    return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=False).rstrip("\n")


def _break(s: Shared, meta: dict, lang: str) -> tuple[dict, str | None]:
    """Apply the record's invalid kind; return the meta and the file stem to use (None: its id)."""
    if s.invalid == "bad-category":
        meta["category"] = MISSPELT[lang]
    elif s.invalid == "missing-field":
        del meta["source"]
    elif s.invalid == "id-mismatch":
        return meta, f"{s.id}-copy"
    return meta, None


def generate(n_records: int, out: Path, seed: int = 1) -> dict:
    """Write the corpus into `out` (which must be empty, missing, or an earlier corpus) and return
    its manifest."""
    if n_records < 1:
        raise ValueError("--records must be at least 1")
    pools, digests = load_sources()
    v = Vocabs.load()
    # Two streams: `r` plans the corpus (sizes, languages, metadata, broken files) and `t` picks
    # the text, so a change in the fixtures changes the words but not the shape of the corpus.
    r = random.Random(f"plan:{seed}")
    t = random.Random(f"text:{seed}")

    # Plan: which ids get a twin, then which twin-less ids are broken on purpose.
    twins: list[bool] = []
    left = n_records
    while left > 0:
        twin = left >= 2 and r.random() < TWIN_SHARE
        twins.append(twin)
        left -= 1 + twin
    single = [i for i, t in enumerate(twins) if not t]
    n_bad = min(len(single), max(min(4, n_records // 5), round(n_records * INVALID_SHARE)))
    kinds = list(INVALID_KINDS)
    broken = {i: kinds[k % len(kinds)] for k, i in enumerate(sorted(r.sample(single, n_bad)))}

    _prepare(out)
    files: list[dict] = []
    valid_ids: list[str] = []
    for i, has_twin in enumerate(twins):
        s = _shared(r, i + 1, v, valid_ids)
        s.invalid = broken.get(i)
        if s.invalid == "broken-yaml":
            s.layout = 3
        lang = r.choices(list(LANG_WEIGHTS), list(LANG_WEIGHTS.values()))[0]
        langs = [lang]
        if has_twin:
            langs.append({"ja": r.choice(("zh", "en")), "zh": "en", "en": "zh"}[lang])
        target = _length(r)
        for k, lg in enumerate(langs):
            pool = pools[lg]
            twin = k > 0
            with_lang = r.random() < (0.5 if twin else 0.8)
            layout = s.layout if not twin else (3 if r.random() < YAML_SHARE else r.choice((0, 0, 1, 2)))
            size = target if not twin else int(target * r.uniform(0.8, 1.3))
            meta, stem = _break(s, _meta(t, s, lg, v, pool, with_lang=with_lang), lg)
            fm = _frontmatter(meta, layout)
            if s.invalid == "broken-yaml":
                fm += "\nclusters: [unclosed, list"
            body = make_body(t, pool, lg, max(MIN_CHARS, min(MAX_CHARS, size)))
            rel = f"{lg}/{s.id}.md" if twin else f"{stem or s.id}.md"
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"---\n{fm}\n---\n\n{body}".encode())
            entry = {"path": rel, "id": s.id, "lang": lg, "chars": len(body), "format": "yaml" if fm.lstrip()[:1] != "{" else "json"}
            if twin:
                entry["twin_of"] = files[-1]["path"]
            if s.invalid:
                entry["invalid"] = s.invalid
                entry["rule"] = INVALID_KINDS[s.invalid]
            files.append(entry)
        if not s.invalid:
            valid_ids.append(s.id)

    langs_count: dict[str, int] = {}
    for f in files:
        langs_count[f["lang"]] = langs_count.get(f["lang"], 0) + 1
    manifest = {
        "generator": GENERATOR, "records": n_records, "seed": seed,
        "params": {"min_chars": MIN_CHARS, "max_chars": MAX_CHARS, "median_chars": MEDIAN_CHARS, "sigma": SIGMA,
                   "lang_weights": LANG_WEIGHTS, "twin_share": TWIN_SHARE, "yaml_share": YAML_SHARE,
                   "invalid_share": INVALID_SHARE},
        "sources": digests, "sources_digest": sources_digest(digests),
        "ids": len(twins), "chars": sum(f["chars"] for f in files), "langs": dict(sorted(langs_count.items())),
        "invalid": [{"path": f["path"], "kind": f["invalid"], "rule": f["rule"]} for f in files if "invalid" in f],
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def _prepare(out: Path) -> None:
    """Start from an empty folder; an earlier corpus (it has a manifest) is replaced, anything else
    is left alone and refused."""
    if out.exists():
        if (out / MANIFEST).is_file():
            shutil.rmtree(out)
        elif any(out.iterdir()):
            raise SystemExit(f"{out} is not empty and holds no corpus manifest; refusing to write into it")
    out.mkdir(parents=True, exist_ok=True)


def expected_manifest_key(n_records: int, seed: int) -> dict:
    """What a cached corpus's manifest must say to be reused for (n_records, seed) today."""
    _, digests = load_sources()
    return {"generator": GENERATOR, "records": n_records, "seed": seed, "sources_digest": sources_digest(digests)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, required=True, help="number of record files to write")
    ap.add_argument("--out", type=Path, required=True, help="folder to write (replaced if it holds an earlier corpus)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    m = generate(args.records, args.out, args.seed)
    print(f"{m['records']} files ({m['ids']} ids; {', '.join(f'{k} {v}' for k, v in m['langs'].items())}), "
          f"{m['chars']:,} body characters, {len(m['invalid'])} invalid on purpose -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
