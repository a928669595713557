"""The `policy-kb` command: a thin click layer over the library modules.

Imports of the heavier stages happen inside each command so `policy-kb validate` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kb import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policy-kb")
def cli() -> None:
    """Knowledge base and measure extractor for CCS policy records (ja, zh, en)."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True, help="How to print findings.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(paths: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check record files and folders (default: seeds/) against the schema, the vocabularies and
    each other. Exit 0 when there are no errors, 1 when there are, 2 on a usage error."""
    from kb.reporting import REPORTERS
    from kb.validation import iter_errors, validate_paths

    targets = list(paths) or [Path("seeds")]
    try:
        checked, findings = validate_paths(targets, strict=strict)
    except FileNotFoundError as exc:
        raise click.UsageError(f"no such file or folder: {exc.args[0]}") from None
    click.echo(REPORTERS[fmt](findings, len(checked)))
    sys.exit(1 if any(True for _ in iter_errors(findings)) else 0)


_DB_OPTION = click.option("--db", "db_path", type=click.Path(path_type=Path, dir_okay=False), default=Path("kb.db"),
                          show_default=True, help="SQLite file to write.")


def _publish(paths: tuple[Path, ...], db_path: Path):
    """Run the incremental build; a missing input or a --db that is not ours is a usage error."""
    from kb.publish import PublishError, build

    def bar(items):
        return click.progressbar(items, label="publishing", file=sys.stderr)

    try:
        return build(list(paths) or [Path("seeds")], db_path, progress=bar if sys.stderr.isatty() else None)
    except FileNotFoundError as exc:
        raise click.UsageError(f"no such file or folder: {exc.args[0] if exc.args else exc}") from None
    except PublishError as exc:
        raise click.UsageError(str(exc)) from None


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_DB_OPTION
def build(paths: tuple[Path, ...], db_path: Path) -> None:
    """Publish record files and folders (default: seeds/) to a SQLite database for Datasette.
    Records with findings are published along with their findings, so the exit code is 0 unless
    the command itself is misused (2)."""
    click.echo(_publish(paths, db_path).summary())


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--sql-time-limit-ms", type=int, default=1000, show_default=True, help="Datasette's limit per SQL query.")
def serve(paths: tuple[Path, ...], db_path: Path, host: str, port: int, sql_time_limit_ms: int) -> None:
    """Bring the database up to date with the record files (a no-op when nothing changed), then
    browse it in Datasette, read-only."""
    import signal
    import subprocess
    import tempfile

    report = _publish(paths, db_path)
    click.echo(report.summary(), err=True)
    with tempfile.TemporaryDirectory() as scratch:
        args = datasette_args(db_path, host=host, port=port, sql_time_limit_ms=sql_time_limit_ms, scratch=Path(scratch))
        click.echo(f"serving http://{host}:{port}/{db_path.stem}", err=True)
        child = subprocess.Popen([sys.executable, "-m", "datasette", *args])
        # A service manager stops us with SIGTERM: pass it on, or Datasette would outlive us.
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            code = child.wait()
        except KeyboardInterrupt:  # Ctrl-C reached Datasette too (same process group)
            code = child.wait()
    sys.exit(code)


def datasette_args(db_path: Path, *, host: str, port: int, sql_time_limit_ms: int, scratch: Path) -> list[str]:
    """Arguments for `datasette` serving the database read-only (immutable) with the shipped
    metadata. The metadata names the database `kb`; for another file name a renamed copy is
    written to `scratch`."""
    import json

    from kb.publish import SETTINGS
    from kb.validation import resource_path

    metadata = resource_path("datasette_metadata.json")
    if db_path.stem != "kb":
        data = json.loads(metadata.read_text(encoding="utf-8"))
        data["databases"] = {db_path.stem: data["databases"]["kb"]}
        metadata = scratch / "metadata.json"
        metadata.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    args = ["serve", "-i", str(db_path), "--metadata", str(metadata), "--host", host, "--port", str(port)]
    for key, value in {**SETTINGS, "sql_time_limit_ms": sql_time_limit_ms}.items():
        args += ["--setting", key, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return args


def main() -> None:
    cli(prog_name="policy-kb")


if __name__ == "__main__":
    main()
