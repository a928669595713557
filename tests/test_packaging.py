"""Packaging: what the package imports is declared, the version has one source, the examples work."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

import yaml

import kb

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
# Import name -> distribution name, where they differ.
DISTRIBUTIONS = {"yaml": "pyyaml", "unidic_lite": "unidic-lite", "sqlite_utils": "sqlite-utils",
                 "frontmatter": "python-frontmatter"}
BUILD_TIME = {"pycountry"}  # tools/ only, declared with the test extras


def _declared(requirements: list[str]) -> set[str]:
    names = set()
    for req in requirements:
        name = req.split(";")[0]
        for stop in "<>=!~[ @":
            name = name.split(stop)[0]
        names.add(name.strip().lower())
    return names


def _imported_top_modules() -> set[str]:
    found = set()
    for path in (REPO / "kb").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m != "kb" and m not in sys.stdlib_module_names}


def test_every_third_party_import_of_the_package_is_a_declared_dependency():
    declared = _declared(PYPROJECT["project"]["dependencies"])
    missing = {m for m in _imported_top_modules() - BUILD_TIME if DISTRIBUTIONS.get(m, m).lower() not in declared}
    assert not missing, f"imported by kb/ but not in [project] dependencies: {sorted(missing)}"


def test_version_has_one_source():
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "kb/__init__.py"
    assert importlib.metadata.version("policy-kb") == kb.__version__


def test_licence_file_and_changelog_exist():
    assert "Apache License" in (REPO / "LICENSE").read_text("utf-8")[:200]
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert (REPO / "CHANGELOG.md").read_text("utf-8").startswith("# Changelog")


def test_classifiers_name_the_supported_pythons():
    classifiers = PYPROJECT["project"]["classifiers"]
    for version in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers


def test_actions_example_installs_policy_kb_not_the_data_repository():
    workflow = yaml.safe_load((REPO / "docs" / "examples" / "validate-seeds.yml").read_text("utf-8"))
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert not any(line.strip() in ("pip install .", "pip install -e .") for run in runs for line in run.splitlines())
    assert any('pip install "$POLICY_KB"' in run for run in runs)
    assert any("policy-kb validate --format github seeds/" in run for run in runs)


def test_ruff_is_clean():
    """The lint configured in pyproject.toml ([tool.ruff]) finds nothing in the code we ship and test."""
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "kb", "tests", "bench", "tools"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-1000:]
