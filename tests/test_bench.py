"""The benchmark corpus generator: reproducible byte for byte, and broken only where it says so.
No timings are checked here; bench/run.py measures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kb.validation import ERROR, validate_paths
from tests.helpers import REPO

N = 20


def generate(out: Path, seed: int = 1) -> None:
    subprocess.run([sys.executable, str(REPO / "bench" / "corpus.py"), "--records", str(N), "--out", str(out), "--seed", str(seed)],
                   cwd=REPO, check=True, capture_output=True, timeout=120)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path):
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert len([k for k in a if k.endswith(".md")]) == N
    assert a == b
    generate(tmp_path / "c", seed=2)
    assert tree(tmp_path / "c") != a


def test_only_the_planted_files_fail(tmp_path):
    generate(tmp_path)
    manifest = json.loads((tmp_path / ".manifest.json").read_text(encoding="utf-8"))
    planted = {i["path"]: i["rule"] for i in manifest["invalid"]}
    assert {i["kind"] for i in manifest["invalid"]} == {"bad-category", "missing-field", "id-mismatch", "broken-yaml"}
    assert len({f["lang"] for f in manifest["files"]}) >= 2

    checked, findings = validate_paths([tmp_path])
    assert len(checked) == N
    errors: dict[str, set[str]] = {}
    for f in findings:
        if f.severity == ERROR:
            errors.setdefault(Path(f.path).relative_to(tmp_path).as_posix(), set()).add(f.rule)
    assert set(errors) == set(planted), errors
    for path, rule in planted.items():
        assert rule in errors[path], (path, errors[path])


def test_micro_benchmark_runs(tmp_path):
    """bench/micro.py at a tiny scale: every stage reports, nothing is asserted about speed."""
    out = tmp_path / "micro.json"
    subprocess.run([sys.executable, str(REPO / "bench" / "micro.py"), "--scale", "0.005", "--out", str(out)],
                   check=True, capture_output=True, timeout=600)
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result["tokenizers"]) >= {"raw_fugashi_s", "segment_s", "segment_over_raw"}
    assert set(result["stages"]) == {"split_clauses_mchars_s", "find_quantities_mchars_s"}
    assert {r["stage"] for r in result["scaling"]} == {"clauses", "quantities"}
    assert all(r["seconds"] >= 0 and r["chars"] > 0 for r in result["scaling"])
