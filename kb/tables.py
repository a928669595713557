"""Every table of the published database, declared once.

A `Table` names its columns with their SQLite types and notes, its primary key, the rows each
column points at, its indexes, and the column naming the file a row belongs to. From it come:
  - the named record of one row (`Table.row`, a NamedTuple: kb.rows makes rows, kb.publish and
    kb.search insert and read them by name, never by position),
  - the statements creating the table and its indexes, and the insert statement,
  - the column notes of datasette_metadata.json (`with_column_notes`, written by
    tools/make_metadata.py; a test fails when the file is not current).

A column that holds a frontmatter field as written names it (`field`): its note is that field's
description in the record schema, so the two never drift apart.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

TEXT, INTEGER, REAL = "TEXT", "INTEGER", "REAL"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # TEXT, INTEGER or REAL; "" in a view or a full-text index, which have none
    doc: str = ""  # the note Datasette shows; empty when `field` gives it
    field: tuple[str, ...] = ()  # frontmatter path this column holds ("*": any key of a mapping)
    references: str | None = None  # "table.column" this column points at
    not_null: bool = False
    unique: bool = False


def text(name: str, doc: str = "", **kw: Any) -> Column:
    return Column(name, TEXT, doc, **kw)


def integer(name: str, doc: str = "", **kw: Any) -> Column:
    return Column(name, INTEGER, doc, **kw)


def real(name: str, doc: str = "", **kw: Any) -> Column:
    return Column(name, REAL, doc, **kw)


def word(name: str, doc: str) -> Column:
    """A column of a view or full-text index: no type of its own."""
    return Column(name, "", doc)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    row_name: str = ""  # class name of the row record; tables without one have no rows of ours
    pk: str | None = None
    indexes: tuple[tuple[str, ...], ...] = ()  # each an index on these columns; "-year" orders descending
    owner: str | None = None  # the column naming the file a row comes from: a build replaces rows by it
    kind: str = "table"  # table | fts5 (external content) | view
    content: str | None = None  # fts5: the content table
    tokenize: str | None = None  # fts5: the tokenizer, when not unicode61
    detail: str | None = None  # fts5: how much the index keeps (full, column or none), when not full
    sql: str | None = None  # view: its select
    row: type = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name} declares a column twice")
        if self.pk is not None and self.pk not in {c.name for c in self.columns}:
            raise ValueError(f"table {self.name}: primary key {self.pk} is not a column")
        # Missing fields default to None, which SQLite stores as NULL.
        row = namedtuple(self.row_name, names, defaults=(None,) * len(names), module=__name__) if self.row_name else None
        object.__setattr__(self, "row", row)

    @property
    def names(self) -> list[str]:
        """The columns a row carries, in insert order: all but `rowid`, which SQLite numbers."""
        return [c.name for c in self.columns if c.name != "rowid"]

    def insert_sql(self) -> str:
        names = self.names
        return f"insert into [{self.name}] ({', '.join(f'[{c}]' for c in names)}) values ({', '.join('?' * len(names))})"

    def create_sql(self) -> str:
        if self.kind == "view":
            return f"CREATE VIEW \"{self.name}\" AS\n{self.sql}"
        if self.kind == "fts5":
            options = [c.name for c in self.columns] + [f"content='{self.content}'", "content_rowid='rowid'"]
            options += [f"tokenize='{self.tokenize}'"] if self.tokenize else []
            options += [f"detail='{self.detail}'"] if self.detail else []
            return f"CREATE VIRTUAL TABLE \"{self.name}\" USING fts5({', '.join(options)})"
        lines = []
        for c in self.columns:
            line = f'   "{c.name}" {c.type}' + (" PRIMARY KEY" if c.name == self.pk else "")
            line += (" NOT NULL" if c.not_null else "") + (" UNIQUE" if c.unique else "")
            if c.references:
                table, column = c.references.split(".")
                line += f' REFERENCES "{table}"("{column}")'
            lines.append(line)
        return f'CREATE TABLE "{self.name}" (\n' + ",\n".join(lines) + "\n)"

    def index_sql(self) -> list[str]:
        out = []
        for columns in self.indexes:
            name = "_".join(["idx", self.name, *(c.lstrip("-") for c in columns)])
            spec = ", ".join(f'"{c[1:]}" desc' if c.startswith("-") else f'"{c}"' for c in columns)
            out.append(f'CREATE INDEX IF NOT EXISTS "{name}"\n    ON "{self.name}" ({spec})')
        return out

    def references(self) -> list[tuple[str, str, str]]:
        """(column, table, column) of each column pointing at another table."""
        return [(c.name, *c.references.split(".")) for c in self.columns if c.references]


# --- the tables ------------------------------------------------------------------------------------

RECORD = text("record", "The record file this row belongs to (records.key).", references="records.key")


def _child(name: str, row_name: str, *columns: Column, **kw: Any) -> Table:
    """A table of a record's rows: `record` first, indexed, owning the rows."""
    return Table(name, (RECORD, *columns), row_name, indexes=(("record",),), owner="record", **kw)


# The texts of a record live in `record_texts`, not here: `records` is what facet and table pages
# scan, and a row carrying a whole body makes every such page read megabytes.
RECORDS = Table(
    "records",
    (
        text("key", "Stable key of the record file: its path relative to the build root, so zh/x.md and en/x.md are two rows."),
        text("id", field=("id",)),
        text("lang", field=("lang",)),
        text("title", field=("title",)),
        text("country", field=("country",)),
        text(
            "country_code",
            "Country or jurisdiction as a vocabulary key: ISO 3166-1 alpha-2 (JP, CN, ...), EU for the European Union, "
            "INT for international bodies; for a province or state, its country (US for California). Empty when the "
            "value as written is not in the vocabulary.",
        ),
        text(
            "subdivision_code",
            "Province, state or prefecture as an ISO 3166-2 code (US-CA, CN-GD, JP-13) when the "
            "record names one; empty for a national record.",
        ),
        text("country_en", "English name of the country, from the vocabulary."),
        text("country_zh", "Chinese name of the country, from the vocabulary."),
        text("country_ja", "Japanese name of the country, from the vocabulary."),
        text("category", field=("category",)),
        text(
            "category_key",
            "Category as a vocabulary key (regulatory, incentive, market, ...), whatever language it was written in. Empty when unknown.",
        ),
        text("status", field=("status",)),
        text("status_key", "Status as a vocabulary key (active, upcoming, draft, ...). Empty when unknown."),
        text("legal_weight", field=("legalWeight",)),
        text("legal_weight_key", "Legal weight as a vocabulary key. Empty when unknown."),
        text("pub_date", field=("pubDate",)),
        integer("year", field=("year",)),
        text("source", field=("source",)),
        text("url", field=("url",)),
        text("review_status", field=("reviewStatus",)),
        text("review_status_key", "Review status as a vocabulary key (verified, draft, unreviewed, ...). Empty when unknown."),
        text("provenance_author", field=("provenance", "author")),
        text("provenance_reviewer", field=("provenance", "reviewer")),
        text("provenance_last_audit", field=("provenance", "lastAuditDate")),
        text("provenance_source_file", field=("provenance", "sourceFile")),
        text("provenance_note", field=("provenance", "note")),
        text("description", field=("description",)),
        text("path", "Path of the file as given to the build."),
        text("sha256", "SHA-256 of the file's bytes. While it stays the same, rebuilds keep this row as it is."),
        text("fm_format", "How the frontmatter is written: json or yaml."),
        integer("body_line", "File line on which the body starts."),
        integer("error_count", "Number of error findings on this file (see the findings table)."),
        integer("warning_count", "Number of warning findings on this file (see the findings table)."),
    ),
    "RecordRow",
    pk="key",
    owner="key",
    indexes=(
        ("id",),
        ("lang",),
        ("country_code",),
        ("subdivision_code",),
        ("category_key",),
        ("status_key",),
        ("legal_weight_key",),
        # (year desc, key): Datasette 0.65 orders the first page of the newest-first records page by year
        # alone and the next pages by (year, key); this index gives ties the key order on every page.
        ("-year", "key"),
        ("review_status_key",),
    ),
)

RECORD_TEXTS = Table("record_texts", (
    text("key", "The record file (records.key).", references="records.key"),
    text("frontmatter", "The whole frontmatter as JSON, including fields that have no column of their own (evolution milestones, ...)."),
    text("fm_text", "The frontmatter exactly as written in the file."),
    text("body", "The text after the frontmatter, exactly as written; clause and measure offsets index it."),
), "RecordTextRow", pk="key", owner="key")

ANALYSIS = _child("analysis", "AnalysisRow",
    text("dimension", "Policy dimension scored: incentive, market, mrv, statutory, strategic or technical."),
    text("label", field=("analysis", "*", "label")),
    integer("score", field=("analysis", "*", "score")),
    text("evidence", field=("analysis", "*", "evidence")),
    text("citation", field=("analysis", "*", "citation")),
    text("audit_note", field=("analysis", "*", "auditNote")))

IMPACTS = _child("impacts", "ImpactRow",
    text("aspect", "Which impact: economic, environmental or technical."),
    text("text", "What the record says about that impact."))

REGULATORY = _child("regulatory", "RegulatoryRow",
    text("field", "The regulatory question (co2_definition, liability_period, pore_space_rights, ...)."),
    text("text", "What the policy says on it; empty when the record leaves it open."))

CLUSTERS = _child("clusters", "ClusterRow",
    text("cluster", "Name of a policy family this record belongs to."))

SUPERSEDES = _child("supersedes", "SupersedesRow",
    text("target_id", "Id of the other record (records.id)."),
    text("relation", "supersedes: this record replaces target_id; superseded_by: target_id replaces this record."))

RELATED_FACILITIES = _child("related_facilities", "FacilityRow",
    text("facility", "Id of one CCS facility in the hub's facility database."))


def _with_record_first(name: str, row_name: str, key: Column, *columns: Column, indexes=(("record",),)) -> Table:
    """A table keyed by its own id whose second column is the owning record."""
    return Table(name, (key, RECORD, *columns), row_name, pk=key.name, indexes=indexes, owner="record")


CLAUSES = _with_record_first(
    "clauses",
    "ClauseRow",
    text(
        "id",
        "Clause id: the file key, '#', then the extractor's id (record id / section hash / "
        "ordinal), so a record and its translation never collide.",
    ),
    text("record_id", "Id of the record (records.id)."),
    integer("ordinal", "Position of the clause within its section, from 1."),
    integer("start", "Offset of the clause's first character in record_texts.body."),
    integer("end", "Offset just past the clause's last character in record_texts.body (exclusive)."),
    integer("line", "File line on which the clause starts."),
    text("section", "Headings above the clause, joined with ' > '; empty before the first heading."),
    text("kind", "What the clause is: heading, paragraph, item, sentence, subclause, table_row or formula."),
    text("lang", "Language of the clause text."),
    text(
        "text",
        "The clause as readable text (tags and Markdown markers removed, whitespace collapsed); "
        "record_texts.body from start to end is the original.",
    ),
)

MEASURES = _with_record_first(
    "measures",
    "MeasureRow",
    text("id", "Measure id: the file key, '#', then the extractor's id, so a record and its translation never collide."),
    text("record_id", "Id of the record (records.id)."),
    text("clause_id", "The clause the measure was found in (clauses.id).", references="clauses.id"),
    text("kind", "What was found: a quantity, or a rule without a number."),
    text("role", "What the measure does, from the role taxonomy (e.g. a subsidy rate or a support period)."),
    text(
        "label",
        "What the text itself says the figure is, when it says more than its role: the definition a document gives a "
        "formula's variable (B1: construction cost), in English. Empty otherwise.",
    ),
    real("value", "The number, in the unit given; for a range, its lower end."),
    real("value_max", "Upper end of a range; empty for a single value."),
    text("unit", "Unit of the value (percent, year, tonne CO2, a currency, ...)."),
    text("comparator", "How the value bounds the measure: at most, at least, exactly, ..."),
    text("surface", "The text the measure was read from, exactly as written."),
    integer("start", "Offset of the surface text in record_texts.body."),
    integer("end", "Offset just past the surface text in record_texts.body (exclusive)."),
    integer("line", "File line of the surface text."),
    # The measures page facets by role, kind and unit: an index led by the filtered column that holds
    # the other two answers each facet from the index alone (2 ms instead of 22 ms for the 25,000
    # support_period rows of the 5,000-record bench), and still serves a filter on its first column.
    indexes=(("record",), ("clause_id",), ("role", "kind", "unit"), ("kind", "unit", "role"), ("unit", "role", "kind")),
)

SUGGESTIONS = _child("suggestions", "SuggestionRow",
    text("field", "The empty regulatory field (liability_period, financial_assurance, ...)."),
    text("value", "The suggested value: the clause's figure when the field asks for one (a period), else the clause text."),
    text("clause_id", "The clause it was read from (clauses.id).", references="clauses.id"),
    text("quote", "The clause text."),
    integer("line", "File line of the clause."))

FINDINGS = Table("findings", (
    text("file", "Key of the file the finding is on (records.key when the file loaded; files.key always)."),
    text("path", "Path of the file as given to the build."),
    integer("line", "File line of the finding."),
    integer("col", "Column of the finding, from 1."),
    text("severity", "error or warning. Records with errors are published all the same."),
    text("rule", "The check that made the finding, e.g. vocab.unknown or corpus.unknown-reference."),
    text("field", "Dotted path of the frontmatter field concerned; empty for the file as a whole."),
    text("message", "What is wrong and, where possible, how to fix it."),
    text("record", "Id of the record, when the file loaded."),
    text("scope", "file: a check of the file alone; corpus: a check across records, recomputed every build."),
), "FindingRow", owner="file", indexes=(("file",), ("severity",), ("rule",), ("path",)))

# size and mtime_ns let an incremental build skip hashing files that were not touched.
FILES = Table(
    "files",
    (
        text(
            "key",
            "Path of the file inside its own root (the folder given to the build, or the folder of a file given "
            "on its own): stable whatever other folders a build is given.",
        ),
        text("path", "Path of the file as given to the build."),
        text("sha256", "SHA-256 of the file's bytes; empty when the file could not be read."),
        integer("published", "1 when the file loaded and has a row in records, 0 when it appears in findings only."),
        integer(
            "size",
            "Size of the file in bytes when it was read; with mtime_ns, lets the next build skip hashing "
            "it. Empty when the file was too new to trust its timestamp.",
        ),
        integer("mtime_ns", "Modification time of the file (nanoseconds since the epoch) when it was read; empty as for size."),
        text(
            "root",
            "Absolute path of the folder the file belongs to. A build not given a folder the "
            "knowledge base holds records from refuses unless --prune.",
        ),
    ),
    "FileRow",
    pk="key",
    owner="key",
)

KB_META = Table("kb_meta", (
    text("key", "built_at, version, layout, fingerprint, schema_id, schema_sha256, source_commit, record_count or file_count."),
    text("value", "The value, as text."),
), "MetaRow", pk="key")

BUILDS = Table("builds", (
    text("built_at", "When the build finished (UTC)."),
    real("seconds", "How long the build took."),
    integer("files", "Record files read."),
    integer("added", "Files new since the previous build (every file on a full build)."),
    integer("changed", "Files whose content changed."),
    integer("unchanged", "Files kept from the previous build without re-reading."),
    integer("removed", "Files gone since the previous build."),
    integer("findings", "Findings in the database after the build."),
    integer("errors", "Error findings in the database after the build."),
    text("version", "policy-kb version that built it."),
    text("source_commit", "Git commit of the record files, when they sit in a git checkout."),
), "BuildRow")

# One row per policy: the language copies of a record share its id (a file without one stands
# alone). Fields come from the English copy when there is one, so a policy is counted once in
# every facet of this view.
POLICIES = Table("policies", (
    word("id", "Id shared by the language copies of the policy (the file key when a record has no id)."),
    word("title", "Title of the policy, from its English copy when there is one."),
    word("country_code", "Country or jurisdiction as a vocabulary key (records.country_code)."),
    word("subdivision_code", "Province, state or prefecture as an ISO 3166-2 code (records.subdivision_code)."),
    word("category_key", "Category as a vocabulary key (records.category_key)."),
    word("status_key", "Status as a vocabulary key (records.status_key)."),
    word("legal_weight_key", "Legal weight as a vocabulary key (records.legal_weight_key)."),
    word("year", "Year the policy was published or adopted."),
    word("languages", "Languages the policy is published in, e.g. 'en, zh'."),
    word("copies", "Number of record files (language copies) of the policy."),
    word("errors", "Error findings over all its copies."),
    word("warnings", "Warning findings over all its copies."),
    word("key", "Key of the copy shown (records.key): the English one when there is one."),
), kind="view", sql="""with ranked as (
  select *, coalesce(id, key) as policy,
    row_number() over (partition by coalesce(id, key) order by lang = 'en' desc, key) as n
  from records
), copies as (
  select policy, group_concat(lang, ', ') as languages, count(*) as copies,
    sum(error_count) as errors, sum(warning_count) as warnings
  from (select policy, lang, error_count, warning_count from ranked order by policy, lang) group by policy
)
select r.policy as id, r.title, r.country_code, r.subdivision_code, r.category_key, r.status_key, r.legal_weight_key, r.year,
  c.languages, c.copies, c.errors, c.warnings, r.key
from ranked r join copies c on c.policy = r.policy where r.n = 1""")

# --- search (kb.search owns these: see its docstring) ----------------------------------------------

SEARCH_CLAUSES = Table("search_clauses", (
    integer("rowid", "Row number; the FTS tables refer to it."),
    text("clause_id", "The clause (clauses.id).", not_null=True),
    text("record", "The record file the clause belongs to (records.key).", not_null=True),
    text("text", "The clause text as words separated by spaces, as kb_segment() gives them: what the word index holds."),
    text("roles", "Role keys and English labels of the clause's measures, so English role words find clauses in any language."),
), "SearchClauseRow", pk="rowid", owner="record", indexes=(("record",),))

SEARCH_RECORDS = Table("search_records", (
    integer("rowid", "Row number; records_fts refers to it."),
    text("record", "The record file (records.key).", not_null=True, unique=True),
    text("title", "The title as words separated by spaces."),
    text("description", "The description as words separated by spaces."),
), "SearchRecordRow", pk="rowid", owner="record")

CLAUSES_FTS = Table("clauses_fts", (
    word("text", "The clause text as words separated by spaces."),
    word("roles", "Role keys and English labels of the clause's measures."),
), kind="fts5", content="search_clauses")

# The trigram index reads the clause text where it is (no copy) and keeps no positions: see kb.search.
CLAUSES_TRIGRAM = Table("clauses_trigram", (
    word("text", "The clause text (clauses.text)."),
), kind="fts5", content="clauses", tokenize="trigram", detail="none")

RECORDS_FTS = Table("records_fts", (
    word("title", "The title as words separated by spaces."),
    word("description", "The description as words separated by spaces."),
), kind="fts5", content="search_records")

# kb.publish creates these, in this order: parents before the rows citing them.
BUILD_TABLES = (RECORDS, RECORD_TEXTS, ANALYSIS, IMPACTS, REGULATORY, CLUSTERS, SUPERSEDES, RELATED_FACILITIES,
                CLAUSES, MEASURES, SUGGESTIONS, FINDINGS, FILES, KB_META, BUILDS, POLICIES)
# kb.search creates these (full-text tables after their content tables).
SEARCH_TABLES = (SEARCH_CLAUSES, CLAUSES_FTS, CLAUSES_TRIGRAM, SEARCH_RECORDS, RECORDS_FTS)
TABLES: dict[str, Table] = {t.name: t for t in BUILD_TABLES + SEARCH_TABLES}
# The tables holding rows of a record file, in insert order: what one file gives a build.
FILE_TABLES = tuple(t for t in TABLES.values() if t.owner is not None)

# The row records, by name: kb.rows makes them, worker processes send them back pickled (so each
# must be a module attribute under its own name).
RecordRow, RecordTextRow, FindingRow, FileRow = RECORDS.row, RECORD_TEXTS.row, FINDINGS.row, FILES.row
AnalysisRow, ImpactRow, RegulatoryRow = ANALYSIS.row, IMPACTS.row, REGULATORY.row
ClusterRow, SupersedesRow, FacilityRow = CLUSTERS.row, SUPERSEDES.row, RELATED_FACILITIES.row
ClauseRow, MeasureRow, SuggestionRow = CLAUSES.row, MEASURES.row, SUGGESTIONS.row
MetaRow, BuildRow = KB_META.row, BUILDS.row
SearchClauseRow, SearchRecordRow = SEARCH_CLAUSES.row, SEARCH_RECORDS.row


# --- Datasette's column notes ----------------------------------------------------------------------


def column_notes(table: Table) -> dict[str, str]:
    """Column -> the note Datasette shows under its name, in column order."""
    return {c.name: c.doc or _schema_description(c.field) for c in table.columns}


def with_column_notes(metadata: dict, database: str = "kb") -> dict:
    """`metadata` (datasette_metadata.json's content) with the `columns` of every declared table
    made from the declaration; everything else (descriptions, facets, queries) is left as it is."""
    tables = metadata["databases"][database]["tables"]
    for name, table in TABLES.items():
        tables.setdefault(name, {})["columns"] = column_notes(table)
    return metadata


def _schema_description(path: tuple[str, ...]) -> str:
    from kb.validation import schema

    node = schema()
    for part in path:
        properties = node["properties"]
        node = properties[next(iter(properties))] if part == "*" else properties[part]
    return node["description"]
