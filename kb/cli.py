"""The `policy-kb` command: a thin click layer over the library modules.

Imports of the heavier stages happen inside each command so `policy-kb validate` starts fast.
"""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path

import click

from kb import __version__
from kb.records import NoRecordFiles
from kb.reporting import aligned, visible, width


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policy-kb")
def cli() -> None:
    """Knowledge base and measure extractor for CCS policy records (ja, zh, en)."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True, help="How to print findings."
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--summary", "only_summary", is_flag=True, help="Print only the counts per rule and the totals.")
def validate(paths: tuple[Path, ...], fmt: str, strict: bool, only_summary: bool) -> None:
    """Check record files and folders (default: seeds/) against the schema, the vocabularies and
    each other. Exit 0 when there are no errors, 1 when there are, 2 on a usage error."""
    from kb.reporting import REPORTERS
    from kb.validation import iter_errors, validate_paths

    targets = list(paths) or [Path("seeds")]
    try:
        checked, findings = validate_paths(targets, strict=strict)
    except FileNotFoundError as exc:
        raise click.UsageError(f"no such file or folder: {visible(str(exc.args[0]))}") from None
    except NoRecordFiles as exc:
        raise click.UsageError(visible(str(exc))) from None
    click.echo(REPORTERS[fmt](findings, len(checked), only_summary))
    sys.exit(1 if any(True for _ in iter_errors(findings)) else 0)


_DB_OPTION = click.option("--db", "db_path", type=click.Path(path_type=Path, dir_okay=False), default=Path("kb.db"),
                          show_default=True, help="SQLite file to write.")


def _publish(paths: tuple[Path, ...], db_path: Path, prune: bool = False):
    """Run the incremental build; a missing input is a usage error (exit 2), a build that is
    refused or cannot write is a one-line error (exit 1)."""
    import sqlite3

    from kb.progress import meter
    from kb.publish import PublishError, build, fault

    try:
        return build(list(paths) or [Path("seeds")], db_path, progress=lambda total: meter("build", total, "files"), prune=prune)
    except FileNotFoundError as exc:
        raise click.UsageError(f"no such file or folder: {visible(str(exc.args[0] if exc.args else exc))}") from None
    except NoRecordFiles as exc:
        raise click.UsageError(visible(str(exc))) from None
    except PublishError as exc:
        raise click.ClickException(visible(str(exc))) from None
    except (sqlite3.Error, OSError) as exc:  # the database side: a folder we may not write, a full disk, a lock held too long
        raise click.ClickException(f"could not write {visible(str(db_path))}: {visible(fault(db_path, exc))}") from None


_PRUNE_OPTION = click.option("--prune", is_flag=True,
                             help="Remove the records of folders the knowledge base was built from but this build is not given.")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_DB_OPTION
@_PRUNE_OPTION
def build(paths: tuple[Path, ...], db_path: Path, prune: bool) -> None:
    """Publish record files and folders (default: seeds/) to a SQLite database for Datasette.
    Records with findings are published along with their findings, so the exit code is 0 unless
    the build is refused or cannot write (1: a folder it was built from is missing from the
    arguments and --prune is not given, a database not ours, a full disk) or misused (2)."""
    click.echo(visible(_publish(paths, db_path, prune).summary()))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--sql-time-limit-ms", type=int, default=1000, show_default=True, help="Datasette's limit per SQL query.")
@_PRUNE_OPTION
def serve(paths: tuple[Path, ...], db_path: Path, host: str, port: int, sql_time_limit_ms: int, prune: bool) -> None:
    """Bring the database up to date with the record files (a no-op when nothing changed), then
    browse it in Datasette, read-only."""
    import signal
    import subprocess
    import tempfile

    from kb.publish import read_only

    frozen = db_path.exists() and read_only(db_path)
    if frozen:  # serve what is there: it cannot be brought up to date, but it can be browsed
        click.echo(visible(f"{db_path} is on a read-only file system: serving it as it is, immutable"), err=True)
    else:
        click.echo(visible(_publish(paths, db_path, prune).summary()), err=True)
    with tempfile.TemporaryDirectory() as scratch:
        args = datasette_args(db_path, host=host, port=port, sql_time_limit_ms=sql_time_limit_ms, scratch=Path(scratch),
                              immutable=frozen)
        click.echo(f"serving http://{host}:{port}/{db_path.stem}", err=True)
        child = subprocess.Popen([sys.executable, "-m", "datasette", *args])
        # A service manager stops us with SIGTERM: pass it on, or Datasette would outlive us.
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            code = child.wait()
        except KeyboardInterrupt:  # Ctrl-C reached Datasette too (same process group)
            code = child.wait()
    sys.exit(code)


def datasette_args(db_path: Path, *, host: str, port: int, sql_time_limit_ms: int, scratch: Path,
                   immutable: bool = False) -> list[str]:
    """Arguments for `datasette` serving the database read-only with the shipped metadata. Not
    immutable: builds commit into the served file (kb/publish.py), and Datasette's read-only
    connections see each commit whole, so a rebuild goes live without a restart. The metadata
    (and on Datasette 1.0 the configuration holding queries and table options, kb.plugin.versions)
    is written to `scratch` under the database's name, the file's stem."""
    import json

    from kb.plugin.versions import served
    from kb.publish import SETTINGS

    shipped = served(db_path.stem)
    files = []
    for option, name, data in (("--metadata", "metadata.json", shipped.metadata), ("--config", "datasette.json", shipped.config)):
        if data is not None:
            (scratch / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            files += [option, str(scratch / name)]
    # A database that cannot change (on a read-only file system) is served immutable: Datasette
    # then reads it without the -shm file a WAL database needs.
    args = ["serve", *(["-i"] if immutable else []), str(db_path), *files, "--host", host, "--port", str(port)]
    for key, value in {**SETTINGS, "sql_time_limit_ms": sql_time_limit_ms}.items():
        args += ["--setting", key, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return args


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: one row per measure, for people; json: clauses and measures with offsets.")
@click.option("--country", metavar="NAME",
              help="The text's jurisdiction, as the country field takes it (Canada, 加拿大, CA, Alberta), in place of "
                   "the file's own: it says which dollar a bare $ is.")
def extract(file: Path, fmt: str, country: str | None) -> None:
    """Clauses and policy measures of one record, or of any text or Markdown file (a file without
    frontmatter is all body). Exit 1 when the file cannot be read, 2 on a usage error."""
    import json
    import os

    from kb.extract import extract as run_extract
    from kb.extract.measures import country_code
    from kb.progress import meter
    from kb.records import RecordError, load_record

    if country is not None and country_code(country) is None:
        raise click.BadParameter(f"{visible(country)} is no country, province or state the country field knows",
                                 param_hint="--country")

    # A path that names nothing is a usage error; one that names something unreadable (a dangling
    # or looping symlink, a folder, a file we may not open) is the file's problem: exit 1.
    if not os.path.lexists(file):
        raise click.UsageError(f"no such file: {visible(str(file))}")
    if file.is_dir():
        raise click.UsageError(f"{visible(str(file))} is a folder; give one file")
    try:
        record = load_record(file, require_frontmatter=False)
    except RecordError as exc:
        click.echo(visible(f"{exc.path}:{exc.line}:{exc.col}: error: {exc.message}"), err=True)
        sys.exit(1)
    progress = meter("extract", len(record.body), "characters")
    try:
        result = run_extract(record, progress=progress.update, country=country)
    finally:
        progress.close()
    if fmt == "json":
        doc = {
            "path": str(file),
            "lang": result.lang,
            "clauses": [{k: getattr(c, k) for k in ("id", "start", "end", "line", "section", "lang", "text")}
                        for c in result.clauses],
            "measures": [{k: getattr(m, k) for k in ("id", "kind", "role", "value", "value_max", "unit", "comparator",
                                                     "surface", "start", "end", "clause_id", "line")}
                         for m in result.measures],
        }
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        click.echo(measure_table(result))


def measure_table(result) -> str:
    """People's view of an extraction: line, clause (shortened), role, surface, value, unit."""
    clauses = {c.id: c for c in result.clauses}
    rows = [("line", "clause", "role", "surface", "value", "unit")]
    for m in result.measures:
        c = clauses.get(m.clause_id)
        rows.append((str(m.line), _shorten(c.text if c else "", 24), m.role, _shorten(m.surface, 24),
                     _format_value(m), m.unit or ""))
    if len(rows) == 1:
        return f"no measures ({len(result.clauses)} clauses)"
    lines = aligned(rows)
    lines.insert(1, "  ".join("-" * max(width(r[i]) for r in rows) for i in range(len(rows[0]))))
    lines.append(f"{len(result.measures)} measures in {len(result.clauses)} clauses")
    return "\n".join(lines)


def _format_value(m) -> str:
    def num(v: float) -> str:
        return f"{int(v):,}" if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"

    if m.value is None:
        return ""
    if m.kind == "date":
        return f"{m.value:.2f}".replace(".", "-") if not float(m.value).is_integer() else str(int(m.value))
    text = num(m.value) if m.value_max is None else f"{num(m.value)}–{num(m.value_max)}"
    cmp = {"<=": "≤ ", ">=": "≥ ", "<": "< ", ">": "> ", "~": "≈ "}.get(m.comparator or "", "")
    return cmp + text


def _shorten(s: str, limit: int) -> str:
    s = " ".join(s.split())
    if width(s) <= limit:
        return s
    out, used = "", 0
    for ch in s:
        w = width(ch)
        if used + w > limit - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


@cli.command(name="eval")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--errors", "--details", "errors", is_flag=True,
              help="List each missed gold measure and each false positive with its clause (cases: every case).")
@click.option("--held-out", "held_out", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A list of doc names (one a line, * allowed) reported apart as the held-out split.")
def evaluate(paths: tuple[Path, ...], fmt: str, errors: bool, held_out: Path | None) -> None:
    """Score the measure extractor. Each PATH is a gold folder (docs/*.txt and gold*.jsonl: precision,
    recall and F1 per language and kind, quantitative measures and rules apart) or a case file
    (cases.jsonl: each sentence's expected measures, rule count and forbidden measures)."""
    import json

    from kb.evaluation import GoldError, format_cases, format_table, is_case_file, load_held_out, run_cases
    from kb.evaluation import evaluate as run_eval

    case_files = [p for p in paths if is_case_file(p)]
    folders = [p for p in paths if p not in case_files]
    try:
        held = load_held_out(held_out) if held_out else frozenset()
        report = run_eval(folders, held_out=held) if folders else None
        cases = {str(p): run_cases(p) for p in case_files}
    except GoldError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "json":
        doc = report.as_dict() if report else {}
        if cases:
            doc["cases"] = {path: {"passed": sum(r.passed for r in rs), "total": len(rs),
                                   "failures": [{"line": r.line, "topic": r.topic, "text": r.text, "problems": list(r.problems)}
                                                for r in rs if not r.passed]}
                            for path, rs in cases.items()}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    out = [format_table(report, details=errors)] if report else []
    out += [format_cases(rs, path, details=errors) for path, rs in cases.items()]
    click.echo("\n\n".join(out))


@cli.command()
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("seeds"), show_default=True,
              help="Folder to write <id>.md into.")
@click.option("--id", "record_id", help="The record's id (default: a slug of the suggested country and title).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def new(document: Path, out_dir: Path, record_id: str | None, fmt: str) -> None:
    """Start a record from a raw document: its text becomes the body, byte for byte, under a
    frontmatter suggested from that text, each suggestion with its evidence, the rest left empty
    and the record marked unreviewed. Never overwrites a file (exit 1)."""
    import os

    from kb.suggest import SuggestError, new_record

    if not os.path.lexists(document):
        raise click.UsageError(f"no such file: {visible(str(document))}")
    try:
        created = new_record(str(document), str(out_dir), record_id=record_id, now=_now())
    except SuggestError as exc:
        raise click.ClickException(visible(str(exc))) from None
    _print_suggestions(created.path, created.draft.suggestions, fmt,
                       footer=f"left empty: {', '.join(created.draft.empty) or 'nothing'}; review, then `policy-kb validate`")


@cli.command()
@click.argument("record", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--write", is_flag=True, help="Fill the empty fields with the suggestions, in place, noting each in provenance.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def suggest(record: Path, write: bool, fmt: str) -> None:
    """Suggest values for a record's empty regulatory fields from its extracted clauses, each with
    the clause it comes from. --write fills only empty fields and leaves every other byte as it was."""
    import os

    from kb.suggest import SuggestError, record_suggestions, write_suggestions

    if not os.path.lexists(record):
        raise click.UsageError(f"no such file: {visible(str(record))}")
    try:
        _, found = record_suggestions(str(record))
        if write:
            write_suggestions(str(record), found, now=_now())
    except SuggestError as exc:
        raise click.ClickException(visible(str(exc))) from None
    done = "written" if write else "not written (--write fills them)"
    _print_suggestions(str(record), found, fmt, footer=f"{len(found)} suggestions, {done}" if found else "no suggestions")


def _now():
    from datetime import datetime

    return datetime.now(UTC)


def _print_suggestions(path: str, suggestions, fmt: str, footer: str) -> None:
    import json

    if fmt == "json":
        doc = {"path": path, "suggestions": [
            {"field": s.field, "value": s.value, "evidence": {"line": s.evidence.line, "text": s.evidence.text},
             **({"clause_id": s.clause_id} if s.clause_id else {}), **({"reason": s.reason} if s.reason else {})}
            for s in suggestions]}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    click.echo(visible(path))
    for s in suggestions:
        click.echo(visible(f"  {s.field}: {s.value}"))
        click.echo(visible(f"      line {s.evidence.line}: {s.evidence.text}" + (f"  ({s.reason})" if s.reason else "")))
    click.echo(visible(footer))


def main() -> None:
    cli(prog_name="policy-kb")


if __name__ == "__main__":
    main()
