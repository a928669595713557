"""Tests for kb.vocabularies and the vocabulary data files."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

from kb import vocabularies as vocab_mod
from kb.vocabularies import (
    LANGS,
    VOCABULARY_NAMES,
    Jurisdiction,
    Match,
    Vocabulary,
    VocabularyError,
    jurisdiction,
    loose_key,
    normalize,
    vocabulary,
)
from tests.helpers import HUB as HUB_PARTS
from tests.helpers import REPO, SHARED, shared

HUB = SHARED.joinpath(*HUB_PARTS)
SEEDS = SHARED / "seeds"
DATA = REPO / "kb" / "data" / "vocab"

# frontmatter field -> vocabulary name
FIELDS = {
    "country": "country",
    "category": "category",
    "status": "status",
    "legalWeight": "legal_weight",
    "reviewStatus": "review_status",
}
FILES = {
    "country": "countries.json",
    "category": "categories.json",
    "status": "statuses.json",
    "legal_weight": "legal_weights.json",
    "review_status": "review_statuses.json",
    "subdivision": "subdivisions.json",
}


def frontmatter_text(path: Path) -> str:
    """The text between the first two lines that are exactly '---'."""
    lines = path.read_text(encoding="utf-8").splitlines()
    marks = [i for i, line in enumerate(lines) if line.strip() == "---"][:2]
    assert len(marks) == 2, f"{path}: no frontmatter"
    return "\n".join(lines[marks[0] + 1 : marks[1]])


def hub_values() -> list:
    if not HUB.is_dir():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(
            reason=f"shared CCUS Policy Hub sample not found at {HUB}"))]
    params = []
    for lang in ("zh", "en"):
        for path in sorted((HUB / lang).glob("*.md")):
            data = yaml.safe_load(frontmatter_text(path))
            for field, name in FIELDS.items():
                if field in data:
                    params.append(pytest.param(name, data[field], lang,
                                               id=f"{lang}/{path.stem}/{field}"))
    return params


def raw(name: str) -> dict:
    return json.loads((DATA / FILES[name]).read_text(encoding="utf-8"))


# -- data integrity -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_every_term_has_zh_en_ja_labels(name: str) -> None:
    for term in vocabulary(name).terms:
        for lang in LANGS:
            assert term.labels.get(lang, "").strip(), f"{name}/{term.key}: no {lang} label"


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_file_declares_its_vocabulary_and_has_a_description(name: str) -> None:
    doc = raw(name)
    assert doc["vocabulary"] == name
    assert doc["description"].strip()


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_keys_are_unique_and_well_formed(name: str) -> None:
    keys = [term["key"] for term in raw(name)["terms"]]
    assert len(keys) == len(set(keys))
    shape = {"country": re.compile(r"^([A-Z]{2}|EU|INT)$"), "subdivision": re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")}.get(
        name, re.compile(r"^[a-z][a-z0-9_]*$"))
    bad = [key for key in keys if not shape.match(key)]
    assert not bad


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_no_spelling_names_two_keys(name: str) -> None:
    """Computed from the raw JSON, independently of the loader's own bookkeeping."""
    owners: dict[tuple[str, str], set[str]] = {}
    for term in raw(name)["terms"]:
        texts = [term["key"], *term["labels"].values(), *term.get("codes", [])]
        for aliases in term.get("aliases", {}).values():
            texts.extend(aliases)
        for text in texts:
            owners.setdefault(("norm", normalize(text)), set()).add(term["key"])
            owners.setdefault(("loose", loose_key(text)), set()).add(term["key"])
    ambiguous = {form: sorted(keys) for form, keys in owners.items() if len(keys) > 1}
    assert ambiguous == {}
    assert vocabulary(name).conflicts == ()


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_aliases_do_not_repeat_the_label_of_the_same_language(name: str) -> None:
    for term in vocabulary(name).terms:
        for lang, aliases in term.aliases.items():
            assert term.labels.get(lang) not in aliases, (term.key, lang)
            assert len(set(aliases)) == len(aliases), (term.key, lang)


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_patterns_never_contradict_labels_or_aliases(name: str) -> None:
    """A pattern of one term must not match a label/alias of another term."""
    vocab = vocabulary(name)
    for owner in vocab.terms:
        for source in owner.patterns:
            pattern = re.compile(source, re.IGNORECASE)
            for other in vocab.terms:
                if other.key == owner.key:
                    continue
                for _lang, text, _is_label in other.names():
                    assert not pattern.search(normalize(text)), (source, other.key, text)


def test_every_iso_country_is_present() -> None:
    pycountry = pytest.importorskip("pycountry", reason="pycountry (build-time tool) not installed")
    keys = set(vocabulary("country").keys())
    missing = {c.alpha_2 for c in pycountry.countries} - keys
    assert not missing
    assert {"EU", "INT"} <= keys


@pytest.mark.parametrize("name, builder", [("country", "build"), ("subdivision", "build_subdivisions")])
def test_committed_vocabulary_json_is_reproducible(name: str, builder: str) -> None:
    pycountry = pytest.importorskip("pycountry", reason="pycountry (build-time tool) not installed")
    recorded = raw(name)["source"]
    version = getattr(pycountry, "__version__", "unknown")
    if f"pycountry {version} " not in recorded:
        pytest.skip(f"installed pycountry {version} differs from the one recorded: {recorded}")
    spec = importlib.util.spec_from_file_location("make_countries", REPO / "tools" / "make_countries.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    document = getattr(module, builder)()
    assert module.check_conflicts(document) == []
    assert module.render(document) == (DATA / FILES[name]).read_text(encoding="utf-8")


# -- jurisdictions below the nation ---------------------------------------------------------------

# How many top-level ISO 3166-2 subdivisions each country has in the vocabulary (CN less HK, MO
# and TW; US less the six outlying areas that are ISO 3166-1 countries; GB its four nations).
SUBDIVISION_COUNTS = {"CN": 31, "JP": 47, "US": 51, "CA": 13, "AU": 8, "GB": 4}


def test_subdivisions_cover_each_listed_country() -> None:
    got: dict[str, int] = {}
    for key in vocabulary("subdivision").keys():
        got[key.split("-")[0]] = got.get(key.split("-")[0], 0) + 1
    assert got == SUBDIVISION_COUNTS


def test_every_top_level_iso_subdivision_of_a_listed_country_is_present() -> None:
    pycountry = pytest.importorskip("pycountry", reason="pycountry (build-time tool) not installed")
    keys = set(vocabulary("subdivision").keys())
    for cc in SUBDIVISION_COUNTS:
        for sub in pycountry.subdivisions.get(country_code=cc):
            if sub.parent_code is None:
                assert (sub.code in keys) == (sub.code not in COUNTRIES_TOO), sub.code
    for code in COUNTRIES_TOO:  # each is a country in its own right, under the code's second half
        assert pycountry.countries.get(alpha_2=code.split("-")[1]) is not None, code
        assert code.split("-")[1] in vocabulary("country"), code


# Subdivisions that are ISO 3166-1 countries too: they stay countries (CN-HK is HK).
COUNTRIES_TOO = {"CN-HK", "CN-MO", "CN-TW", "US-AS", "US-GU", "US-MP", "US-PR", "US-UM", "US-VI"}


# (value, jurisdiction key, country, subdivision)
JURISDICTIONS = [
    ("California", "US-CA", "US", "US-CA"),
    ("广东省", "CN-GD", "CN", "CN-GD"),
    ("广东", "CN-GD", "CN", "CN-GD"),
    ("広東", "CN-GD", "CN", "CN-GD"),
    ("広東省", "CN-GD", "CN", "CN-GD"),
    ("Guangdong Province", "CN-GD", "CN", "CN-GD"),
    ("Guangdong Sheng", "CN-GD", "CN", "CN-GD"),
    ("加州", "US-CA", "US", "US-CA"),
    ("加利福尼亚州", "US-CA", "US", "US-CA"),
    ("カリフォルニア州", "US-CA", "US", "US-CA"),
    ("Alberta", "CA-AB", "CA", "CA-AB"),
    ("艾伯塔省", "CA-AB", "CA", "CA-AB"),
    ("Jiangsu", "CN-JS", "CN", "CN-JS"),
    ("江苏", "CN-JS", "CN", "CN-JS"),
    ("江蘇省", "CN-JS", "CN", "CN-JS"),
    ("東京都", "JP-13", "JP", "JP-13"),
    ("東京", "JP-13", "JP", "JP-13"),
    ("东京都", "JP-13", "JP", "JP-13"),
    ("Tokyo", "JP-13", "JP", "JP-13"),
    ("北海道", "JP-01", "JP", "JP-01"),
    ("大阪", "JP-27", "JP", "JP-27"),
    ("US-CA", "US-CA", "US", "US-CA"),
    ("us-ca", "US-CA", "US", "US-CA"),
    ("JP-13", "JP-13", "JP", "JP-13"),
    ("NSW", "AU-NSW", "AU", "AU-NSW"),
    ("New South Wales", "AU-NSW", "AU", "AU-NSW"),
    ("Victoria", "AU-VIC", "AU", "AU-VIC"),
    ("Scotland", "GB-SCT", "GB", "GB-SCT"),
    ("苏格兰", "GB-SCT", "GB", "GB-SCT"),
    ("北アイルランド", "GB-NIR", "GB", "GB-NIR"),
    ("Wales", "GB-WLS", "GB", "GB-WLS"),
    ("内蒙古", "CN-NM", "CN", "CN-NM"),
    ("Inner Mongolia", "CN-NM", "CN", "CN-NM"),
    ("Texas", "US-TX", "US", "US-TX"),
    ("Washington, D.C.", "US-DC", "US", "US-DC"),
    ("Québec", "CA-QC", "CA", "CA-QC"),
    # a name that is also a country's is the country
    ("Georgia", "GE", "GE", None),
    ("ジョージア", "GE", "GE", None),
    ("佐治亚州", "US-GA", "US", "US-GA"),
    ("ジョージア州", "US-GA", "US", "US-GA"),
    ("US-GA", "US-GA", "US", "US-GA"),
    # subdivisions that are ISO 3166-1 countries stay countries
    ("Hong Kong", "HK", "HK", None),
    ("Puerto Rico", "PR", "PR", None),
    ("台湾", "TW", "TW", None),
    # countries as before
    ("Japan", "JP", "JP", None),
    ("美国", "US", "US", None),
    ("New Caledonia", "NC", "NC", None),
    ("EU", "EU", "EU", None),
]


@pytest.mark.parametrize(("value", "key", "country", "subdivision"), JURISDICTIONS, ids=[r[0] for r in JURISDICTIONS])
def test_jurisdiction_lookup(value: str, key: str, country: str, subdivision: str | None) -> None:
    match = vocabulary("jurisdiction").lookup(value)
    assert match is not None and match.key == key
    assert jurisdiction(match.key) == Jurisdiction(country, subdivision)


# Not accepted: a bare two-letter state code is a country code (CA is Canada, not California);
# 华盛顿 and ワシントン alone mean the capital as often as the state; CN-HK is written HK.
@pytest.mark.parametrize(("value", "key"), [("CA", "CA"), ("TX", None), ("华盛顿", None), ("ワシントン", None),
                                            ("Atlantis", None), ("", None)])
def test_jurisdiction_non_matches(value: str, key: str | None) -> None:
    match = vocabulary("jurisdiction").lookup(value)
    assert (match.key if match else None) == key


def test_country_names_shadow_only_the_documented_subdivision_spellings() -> None:
    """Georgia (US-GA) is the one subdivision whose names a country takes; its description says so."""
    countries = vocabulary("country")
    shadowed = {(t.key, text) for t in vocabulary("subdivision").terms for _, text, _ in t.names() if countries.lookup(text)}
    assert shadowed == {("US-GA", "Georgia"), ("US-GA", "ジョージア")}
    assert "'Georgia' is GE" in raw("subdivision")["description"]


# (misspelt value, first suggestion, labels that must not be suggested beside it)
JURISDICTION_SUGGESTIONS = [
    ("Californa", "California", {"New Caledonia"}),
    ("Califronia", "California", {"New Caledonia"}),
    ("Albrta", "Alberta", set()),
    ("广东生", "广东省", set()),
    ("江苏生", "江苏省", set()),
    ("Jiangsuu", "Jiangsu", set()),
    ("Tokio", "Tokyo", set()),
    ("Queensland State", "Queensland", set()),
    ("Untied States", "United States", set()),
    ("Chna", "China", set()),
    ("华盛顿", "华盛顿州", set()),
]


@pytest.mark.parametrize(("value", "first", "absent"), JURISDICTION_SUGGESTIONS, ids=[r[0] for r in JURISDICTION_SUGGESTIONS])
def test_jurisdiction_suggestions(value: str, first: str, absent: set[str]) -> None:
    got = vocabulary("jurisdiction").suggest(value)
    assert got and got[0] == first
    assert not absent & set(got), got


def test_jurisdiction_labels_are_the_countries_and_each_part_keeps_its_labels() -> None:
    vocab = vocabulary("jurisdiction")
    assert vocab.labels("en") == vocabulary("country").labels("en")
    assert vocab.label("US-CA", "zh") == "加利福尼亚州" and vocab.label("US", "zh") == "美国"
    assert vocab.label("JP-13", "en") == "Tokyo" and vocab.label("XX-99", "en") is None


# -- real data: the CCUS Policy Hub sample and the seed -------------------------------------------


@pytest.mark.parametrize(("name", "value", "file_lang"), hub_values())
def test_hub_value_resolves(name: str, value: object, file_lang: str) -> None:
    assert isinstance(value, str)
    match = vocabulary(name).lookup(value)
    assert match is not None, f"{name}: {value!r} does not resolve"


def test_hub_values_are_never_matched_by_two_patterns() -> None:
    vocab = vocabulary("legal_weight")
    for path in sorted(shared(*HUB_PARTS).glob("*/*.md")):
        value = yaml.safe_load(frontmatter_text(path)).get("legalWeight")
        if not isinstance(value, str):
            continue
        owners = {t.key for t in vocab.terms for p in t.patterns
                  if re.search(p, normalize(value), re.IGNORECASE)}
        assert len(owners) <= 1, (path.name, value, owners)


def test_seed_values_resolve() -> None:
    seeds = sorted(shared("seeds").glob("000_*.txt"))
    assert seeds, f"../shared/seeds holds no 000_*.txt: {sorted(p.name for p in SEEDS.iterdir())}"
    data = json.loads(frontmatter_text(seeds[0]))
    expected = {"country": "JP", "category": "incentive", "status": "active",
                "legalWeight": "guideline", "reviewStatus": "verified"}
    for field, key in expected.items():
        match = vocabulary(FIELDS[field]).lookup(data[field])
        assert match is not None and match.key == key, (field, data[field])


# -- specific lookups -----------------------------------------------------------------------------

# (vocabulary, value, key, langs, exact, via)
LOOKUPS = [
    # other-language labels seen in the hub
    ("country", "Egypt", "EG", {"en"}, True, "label"),
    ("country", "Kuwait", "KW", {"en"}, True, "label"),
    ("country", "South Africa", "ZA", {"en"}, True, "label"),
    ("category", "法律监管", "regulatory", {"zh"}, True, "label"),
    ("status", "现行", "active", {"zh"}, True, "label"),
    # countries
    ("country", "韩国", "KR", {"zh"}, True, "label"),
    ("country", "South Korea", "KR", {"en"}, True, "label"),
    ("country", "韓国", "KR", {"ja"}, True, "label"),
    ("country", "大韩民国", "KR", {"zh"}, False, "alias"),
    ("country", "Korea", "KR", {"en"}, False, "alias"),
    ("country", "朝鲜", "KP", {"zh"}, True, "label"),
    ("country", "国际", "INT", {"zh"}, True, "label"),
    ("country", "International", "INT", {"en"}, True, "label"),
    ("country", "国際", "INT", {"ja"}, True, "label"),
    ("country", "欧盟", "EU", {"zh"}, True, "label"),
    ("country", "European Union", "EU", {"en"}, True, "label"),
    ("country", "欧州連合", "EU", {"ja"}, True, "label"),
    ("country", "日本", "JP", {"zh", "ja"}, True, "label"),
    ("country", "中国", "CN", {"zh", "ja"}, True, "label"),
    ("country", "英国", "GB", {"zh", "ja"}, True, "label"),
    ("country", "德国", "DE", {"zh"}, True, "label"),
    ("country", "ドイツ", "DE", {"ja"}, True, "label"),
    ("country", "美國", "US", {"zh"}, False, "alias"),
    ("country", "アメリカ", "US", {"ja"}, False, "alias"),
    ("country", "USA", "US", {"en"}, False, "alias"),
    ("country", "u.s.", "US", {"en"}, False, "alias"),
    ("country", "UK", "GB", {"en"}, False, "alias"),
    ("country", "UAE", "AE", {"en"}, False, "alias"),
    ("country", "阿联酋", "AE", {"zh"}, True, "label"),
    ("country", "PRC", "CN", {"en"}, False, "alias"),
    ("country", "Turkey", "TR", {"en"}, False, "alias"),
    ("country", "Türkiye", "TR", {"en"}, True, "label"),
    ("country", "台湾", "TW", {"zh", "ja"}, True, "label"),
    ("country", "臺灣", "TW", {"zh", "ja"}, False, "alias"),
    ("country", "中華民國", "TW", {"zh"}, False, "alias"),
    ("country", "Georgia", "GE", {"en"}, True, "label"),
    ("country", "グルジア", "GE", {"ja"}, False, "alias"),
    ("country", "Cote d'Ivoire", "CI", {"en"}, False, "alias"),
    ("country", "ＪＡＰＡＮ", "JP", {"en"}, False, "label"),
    ("country", "  South   Korea ", "KR", {"en"}, False, "label"),
    ("country", "JP", "JP", set(), True, "key"),
    ("country", "jp", "JP", set(), False, "key"),
    ("country", "JPN", "JP", set(), False, "code"),
    # categories
    ("category", "Statutory", "regulatory", {"en"}, False, "alias"),
    ("category", "Methodology", "methodology", {"en"}, True, "label"),
    ("category", "经济激励", "incentive", {"zh"}, True, "label"),
    ("category", "経済的インセンティブ", "incentive", {"ja"}, True, "label"),
    ("category", "Economic incentive", "incentive", {"en"}, False, "alias"),
    ("category", "regulatory", "regulatory", set(), True, "key"),
    # statuses
    ("status", "Active", "active", {"en"}, True, "label"),
    ("status", "現行", "active", {"zh", "ja"}, True, "label"),
    ("status", "即将实施", "upcoming", {"zh"}, True, "label"),
    ("status", "计划中", "planned", {"zh"}, True, "label"),
    ("status", "制定中", "under_development", {"zh", "ja"}, True, "label"),
    ("status", "Under Development", "under_development", {"en"}, False, "label"),
    ("status", "征求意见稿", "proposed", {"zh"}, False, "alias"),
    ("status", "已废止", "repealed", {"zh"}, True, "label"),
    # legal weights
    ("legal_weight", "Federal Decree", "decree", {"en"}, False, "alias"),
    ("legal_weight", "Presidential Decree", "decree", {"en"}, False, "alias"),
    ("legal_weight", "Act of Parliament", "primary_legislation", {"en"}, False, "alias"),
    ("legal_weight", "Primary Legislation", "primary_legislation", {"en"}, True, "label"),
    ("legal_weight", "Law No. 7552", "primary_legislation", set(), False, "pattern"),
    ("legal_weight", "Law 114/2013", "primary_legislation", set(), False, "pattern"),
    ("legal_weight", "Federal Decree-Law No. (11) of 2024", "decree", set(), False, "pattern"),
    ("legal_weight", "GB/T 42797-2023", "technical_standard", set(), False, "pattern"),
    ("legal_weight", "法律第五十二号", "primary_legislation", set(), False, "pattern"),
    ("legal_weight", "Guideline/Policy", "guideline", {"en"}, False, "alias"),
    ("legal_weight", "Guideline / Policy", "guideline", {"en"}, False, "alias"),
    ("legal_weight", "National Recommended Standards", "technical_standard", {"en"}, False, "alias"),
    ("legal_weight", "Strategic Technology Roadmap", "roadmap", {"en"}, False, "alias"),
    ("legal_weight", "Operational Framework", "guideline", {"en"}, False, "alias"),
    ("legal_weight", "Fiscal Incentive", "fiscal_incentive", {"en"}, True, "label"),
    ("legal_weight", "Departmental Rules", "departmental_rules", {"en"}, True, "label"),
    ("legal_weight", "Administrative Regulation", "administrative_regulation", {"en"}, True, "label"),
    ("legal_weight", "Regulatory Directive", "regulatory_directive", {"en"}, True, "label"),
    ("legal_weight", "法律", "primary_legislation", {"zh", "ja"}, True, "label"),
    # review statuses: the key itself is language-neutral
    ("review_status", "verified", "verified", set(), True, "key"),
    ("review_status", "draft", "draft", set(), True, "key"),
    ("review_status", "pending", "in_review", {"en"}, False, "alias"),
    ("review_status", "已核实", "verified", {"zh"}, True, "label"),
]


@pytest.mark.parametrize(("name", "value", "key", "langs", "exact", "via"), LOOKUPS,
                         ids=[f"{row[0]}:{row[1]}" for row in LOOKUPS])
def test_lookup(name: str, value: str, key: str, langs: set[str], exact: bool, via: str) -> None:
    match = vocabulary(name).lookup(value)
    assert match is not None
    assert (match.key, set(match.langs), match.exact, match.via) == (key, langs, exact, via)
    assert match.lang == (next(iter(langs)) if len(langs) == 1 else None)


def test_label_langs_distinguish_label_from_alias_languages() -> None:
    # 現行 is the Japanese label of "active" and a traditional-Chinese alias of it
    match = vocabulary("status").lookup("現行")
    assert match is not None
    assert match.label_langs == {"ja"} and match.langs == {"zh", "ja"}


@pytest.mark.parametrize("value", ["", "   ", "Atlantis", "not a category"])
def test_lookup_misses(value: str) -> None:
    assert vocabulary("country").lookup(value) is None
    assert vocabulary("category").lookup(value) is None


def test_lookup_rejects_non_strings() -> None:
    assert vocabulary("country").lookup(None) is None  # type: ignore[arg-type]
    assert vocabulary("status").lookup(7) is None  # type: ignore[arg-type]


# -- suggestions ----------------------------------------------------------------------------------

SUGGESTIONS = [
    ("category", "Regulatroy", "Regulatory"),
    ("category", "经济激厉", "经济激励"),
    ("category", "激励经济", "经济激励"),
    ("category", "Statutry", "Regulatory"),
    ("status", "Activ", "Active"),
    ("status", "现形", "现行"),
    ("status", "Upcomming", "Upcoming"),
    ("country", "Untied States", "United States"),
    ("country", "Chna", "China"),
    ("country", "韩过", "韩国"),
    ("country", "Japna", "Japan"),
    ("legal_weight", "Primary Legislaton", "Primary Legislation"),
    ("review_status", "verifed", "Verified"),
]


@pytest.mark.parametrize(("name", "value", "first"), SUGGESTIONS,
                         ids=[f"{row[0]}:{row[1]}" for row in SUGGESTIONS])
def test_suggest_first(name: str, value: str, first: str) -> None:
    suggestions = vocabulary(name).suggest(value)
    assert suggestions and suggestions[0] == first
    assert len(suggestions) <= 3 and len(set(suggestions)) == len(suggestions)


def test_suggest_in_requested_language_and_limits() -> None:
    assert vocabulary("category").suggest("Regulatroy", lang="zh")[0] == "法律监管"
    assert vocabulary("country").suggest("Chna", n=1) == ["China"]
    assert vocabulary("country").suggest("Chna", n=0) == []
    assert vocabulary("country").suggest("") == []
    assert vocabulary("category").suggest("zzzzzzzz") == []


# -- label tables ---------------------------------------------------------------------------------

LABELS = {
    "category": {
        "regulatory": ("法律监管", "Regulatory", "法規制"),
        "strategic": ("战略引导", "Strategic", "戦略"),
        "incentive": ("经济激励", "Incentive", "経済的インセンティブ"),
        "market": ("市场机制", "Market", "市場メカニズム"),
        "technical": ("技术规范", "Technical", "技術基準"),
        "methodology": ("方法学", "Methodology", "方法論"),
    },
    "status": {
        "active": ("现行", "Active", "現行"),
        "upcoming": ("即将实施", "Upcoming", "施行予定"),
        "planned": ("计划中", "Planned", "計画中"),
        "under_development": ("制定中", "Under development", "策定中"),
        "proposed": ("拟议中", "Proposed", "提案中"),
        "draft": ("草案", "Draft", "原案"),
        "repealed": ("已废止", "Repealed", "廃止"),
        "superseded": ("已被取代", "Superseded", "置換済み"),
        "expired": ("已失效", "Expired", "失効"),
        "suspended": ("暂停实施", "Suspended", "停止中"),
    },
    "legal_weight": {
        "primary_legislation": ("法律", "Primary Legislation", "法律"),
        "decree": ("法令", "Decree", "政令"),
        "administrative_regulation": ("行政法规", "Administrative Regulation", "行政法規"),
        "departmental_rules": ("部门规章", "Departmental Rules", "省令"),
        "subnational_legislation": ("地方性法规", "Subnational Legislation", "条例"),
        "regulatory_directive": ("规范性文件", "Regulatory Directive", "指令"),
        "technical_standard": ("技术标准", "Technical Standard", "技術基準"),
        "guideline": ("指南", "Guideline", "ガイドライン"),
        "strategy": ("战略规划", "Strategy", "戦略"),
        "roadmap": ("路线图", "Roadmap", "ロードマップ"),
        "fiscal_incentive": ("财政激励", "Fiscal Incentive", "財政的インセンティブ"),
        "international_agreement": ("国际协定", "International Agreement", "国際協定"),
        "voluntary_standard": ("自愿性标准", "Voluntary Standard", "任意基準"),
    },
    "review_status": {
        "verified": ("已核实", "Verified", "検証済み"),
        "draft": ("草稿", "Draft", "下書き"),
        "unreviewed": ("未审核", "Unreviewed", "未確認"),
        "in_review": ("审核中", "In review", "確認中"),
        "rejected": ("已驳回", "Rejected", "却下"),
    },
    # a sample of the 251 countries: everyday short names, not official long forms
    "country": {
        "JP": ("日本", "Japan", "日本"),
        "CN": ("中国", "China", "中国"),
        "KR": ("韩国", "South Korea", "韓国"),
        "KP": ("朝鲜", "North Korea", "北朝鮮"),
        "US": ("美国", "United States", "米国"),
        "GB": ("英国", "United Kingdom", "英国"),
        "DE": ("德国", "Germany", "ドイツ"),
        "RU": ("俄罗斯", "Russia", "ロシア"),
        "VN": ("越南", "Vietnam", "ベトナム"),
        "IR": ("伊朗", "Iran", "イラン"),
        "LA": ("老挝", "Laos", "ラオス"),
        "SY": ("叙利亚", "Syria", "シリア"),
        "VE": ("委内瑞拉", "Venezuela", "ベネズエラ"),
        "BO": ("玻利维亚", "Bolivia", "ボリビア"),
        "TZ": ("坦桑尼亚", "Tanzania", "タンザニア"),
        "MD": ("摩尔多瓦", "Moldova", "モルドバ"),
        "TW": ("台湾", "Taiwan", "台湾"),
        "HK": ("香港", "Hong Kong", "香港"),
        "MO": ("澳门", "Macao", "マカオ"),
        "AE": ("阿联酋", "United Arab Emirates", "アラブ首長国連邦"),
        "AU": ("澳大利亚", "Australia", "オーストラリア"),
        "TR": ("土耳其", "Türkiye", "トルコ"),
        "GE": ("格鲁吉亚", "Georgia", "ジョージア"),
        "KH": ("柬埔寨", "Cambodia", "カンボジア"),
        "EU": ("欧盟", "European Union", "欧州連合"),
        "INT": ("国际", "International", "国際"),
    },
}
LABEL_ROWS = [
    (name, key, lang, labels[i])
    for name, table in LABELS.items()
    for key, labels in table.items()
    for i, lang in enumerate(LANGS)
]


@pytest.mark.parametrize(("name", "key", "lang", "label"), LABEL_ROWS,
                         ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in LABEL_ROWS])
def test_label(name: str, key: str, lang: str, label: str) -> None:
    vocab = vocabulary(name)
    assert vocab.label(key, lang) == label
    match = vocab.lookup(label)
    assert match is not None and match.key == key and match.exact and lang in match.langs


@pytest.mark.parametrize("name", ["category", "status", "legal_weight", "review_status"])
def test_term_sets_are_exactly_the_tabled_ones(name: str) -> None:
    assert vocabulary(name).keys() == list(LABELS[name])


def test_labels_lists() -> None:
    category = vocabulary("category")
    assert category.labels("en") == [
        "Regulatory", "Strategic", "Incentive", "Market", "Technical", "Methodology"]
    assert category.labels("zh")[0] == "法律监管"
    everything = category.labels()
    assert everything[:6] == category.labels("zh") and "法規制" in everything
    assert len(everything) == len(set(everything))
    assert category.labels("fr") == []
    assert category.label("regulatory", "fr") is None
    assert category.label("nope", "en") is None


# -- API shape and loading ------------------------------------------------------------------------


def test_vocabulary_is_cached_and_names_are_checked() -> None:
    assert vocabulary("country") is vocabulary("country")
    assert isinstance(vocabulary("status"), Vocabulary)
    with pytest.raises(VocabularyError, match="unknown vocabulary"):
        vocabulary("colour")


def test_terms_and_matches_are_frozen_and_hashable() -> None:
    match = vocabulary("country").lookup("日本")
    assert isinstance(match, Match)
    assert hash(match) == hash(vocabulary("country").lookup("日本"))
    with pytest.raises(AttributeError):
        match.term.key = "XX"  # type: ignore[misc]
    with pytest.raises(TypeError):
        match.term.labels["en"] = "Nippon"  # type: ignore[index]


def test_container_helpers() -> None:
    country = vocabulary("country")
    assert "JP" in country and "XX" not in country
    assert country.get("JP") is not None and country.get("XX") is None
    assert len(country) == len(list(country)) == len(country.terms)


def test_normalisation_helpers() -> None:
    assert normalize("  Ｕｎｉｔｅｄ\u3000 States ") == "united states"
    assert loose_key("U.S.A.") == "usa"
    assert loose_key("ボスニア・ヘルツェゴビナ") == "ボスニアヘルツェゴビナ"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "invalid JSON"),
        ('{"vocabulary": "status"}', "'terms' list"),
        ('{"vocabulary": "category", "terms": []}', "declares vocabulary"),
        ('{"vocabulary": "status", "terms": [{"key": "a", "labels": {"zh": "甲", "en": "A"}}]}',
         "missing ja label"),
        ('{"vocabulary": "status", "terms": [{"key": "a", "labels": {"zh": "甲", "en": "A", "ja": "甲"},'
         ' "aliases": {"en": "B"}}]}', "list of non-empty strings"),
        ('{"vocabulary": "status", "terms": [{"key": "a", "labels": {"zh": "甲", "en": "A", "ja": "甲"},'
         ' "patterns": ["("]}]}', "bad pattern"),
        ('{"vocabulary": "status", "terms": [{"key": "a", "labels": {"zh": "甲", "en": "A", "ja": "甲"}},'
         ' {"key": "a", "labels": {"zh": "乙", "en": "B", "ja": "乙"}}]}', "duplicate key"),
    ],
)
def test_malformed_data_raises_vocabulary_error(text: str, message: str) -> None:
    with pytest.raises(VocabularyError, match=message):
        vocab_mod._load("status", text, "test.json")


def test_ambiguous_spelling_is_not_indexed() -> None:
    text = json.dumps({"vocabulary": "status", "terms": [
        {"key": "a", "labels": {"zh": "甲", "en": "A", "ja": "あ"}, "aliases": {"en": ["Same"]}},
        {"key": "b", "labels": {"zh": "乙", "en": "B", "ja": "い"}, "aliases": {"en": ["same"]}},
    ]})
    vocab = vocab_mod._load("status", text, "test.json")
    assert vocab.lookup("Same") is None
    assert vocab.conflicts == (("same", ("a", "b")),)
    assert vocab.lookup("A") is not None
