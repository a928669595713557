"""Throughput of the extraction stages on their own, and how they scale on hostile single lines.

    python bench/micro.py [--scale 1.0] [--baseline REV] [--out bench/out/micro.json]

What it measures (best of a few runs each, wall clock, in this process):
- segment: kb.tokens.segment (the words search indexing stores) over 1 MB of the Japanese seed
  body, against fugashi's own node iteration over the same text (the floor);
- split_clauses: 1 MB of the Japanese seed body (paragraphs kept), in characters per second;
- find_quantities: 1 MB of the seed and policy-gold texts mixed (ja, zh, en);
- extract: the whole extraction (clauses, quantities, dates, roles, rules) over the bodies of a
  bench corpus (bench/corpus.py, 200 records at scale 1), in characters per second; with
  `--baseline REV` the same bodies are extracted by that revision too, checked out in a temporary
  git worktree and run in a child process, so both figures come from the same run and machine;
- hostile: whole extraction of hostile bodies (a run of sentence enders, blanks after an ATX
  heading, ideographic spaces, digits, commas, CJK numerals, list markers, soft breaks, modal
  words, dates and table figures in one clause) at 10k, 100k and 1M characters: ~10x per 10x;
- scaling: hostile single lines (one 10 MB line of seed text, one unbroken word, open tags,
  brackets; 200k-character runs of number fragments) against a tenth of their size. A linear
  scan takes ~10x as long for 10x the text; a quadratic one ~100x.

These are benchmarks, not tests: nothing here fails on a slow machine. `--scale` shrinks every
input (0.01 for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kb.extract import find_quantities, split_clauses
from kb.records import RecordError, load_record
from kb.tokens import _chunks, segment

SEEDS = REPO / "seeds"
GOLD = REPO.parent / "shared" / "peer" / "policy-gold" / "docs"
# Fragments that once made a scanner backtrack or rescan: numbers, units, era names, ranges.
NUMBER_UNITS = ["1", "一", "十", "1,", "1-", "半", "元年", "1 ", "5万元以上", "令和", "NT$1 to ",
                "between 1 and ", "一點", "兆", "2030年", "1.", "第"]


def best(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def repeat_to(text: str, size: int) -> str:
    return (text * (size // max(len(text), 1) + 1))[:size]


def japanese_body() -> str:
    return next(r.body for r in map(load_record, sorted(SEEDS.glob("*.md"))) if r.lang == "ja")


def mixed_text() -> str:
    parts = [load_record(p).body for p in sorted(SEEDS.glob("*.md"))]
    parts += [p.read_text(encoding="utf-8") for p in sorted(GOLD.glob("*.txt"))] if GOLD.is_dir() else []
    return "\n".join(parts)


def rate(chars: int, seconds: float) -> float:
    return round(chars / seconds / 1e6, 3) if seconds else float("inf")


def tokenizers(size: int) -> dict:
    import fugashi
    import unidic_lite

    text = repeat_to(japanese_body(), size)
    d = unidic_lite.DICDIR
    tagger = fugashi.Tagger(f'-d "{d}" -r "{d}/mecabrc"')
    pieces = [p for _, p in _chunks(text, 10_000)]  # MeCab cannot take a megabyte at once
    segment(text, "ja")  # load the dictionary
    raw = best(lambda: [w.surface for p in pieces for w in tagger(p)])
    seg = best(lambda: segment(text, "ja"))
    return {"chars": len(text), "raw_fugashi_s": round(raw, 3), "segment_s": round(seg, 3),
            "segment_over_raw": round(seg / raw, 2)}


def stages(size: int) -> dict:
    ja = repeat_to(japanese_body() + "\n\n", size)
    mixed = repeat_to(mixed_text(), size)
    t_clauses = best(lambda: split_clauses(ja, "bench"))
    t_quantities = best(lambda: find_quantities(mixed), runs=2)
    return {"split_clauses_mchars_s": rate(len(ja), t_clauses), "find_quantities_mchars_s": rate(len(mixed), t_quantities)}


_EXTRACT_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
try:
    from kb.extract import extract_text
except ImportError:  # revisions before the kb.extract package
    from kb.measures import extract_text
bodies = json.load(open(sys.argv[2], encoding="utf-8"))
extract_text(bodies[0][:2000])  # compile the data files outside the timing
best = min(_time for _time in [
    (lambda t0: ([extract_text(b) for b in bodies], time.perf_counter() - t0)[1])(time.perf_counter())
    for _ in range(3)])
print(json.dumps({"chars": sum(map(len, bodies)), "seconds": best}))
"""


def corpus_bodies(records: int) -> list[str]:
    """Bodies of a bench corpus of `records` records (generated once into bench/out)."""
    import subprocess

    out = REPO / "bench" / "out" / f"corpus-{records}"
    if not (out / ".manifest.json").exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "corpus.py"), "--records", str(records), "--out", str(out)],
                       check=True, capture_output=True)
    bodies = []
    for p in sorted(out.rglob("*.md")):
        try:
            bodies.append(load_record(p).body)
        except RecordError:
            continue  # the corpus breaks a few files on purpose
    return bodies


def extraction(records: int, baseline: str | None) -> dict:
    """extract_text chars/s on corpus bodies, for this tree and optionally a baseline revision."""
    import subprocess
    import tempfile

    bodies = corpus_bodies(records)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bodies.json"
        data.write_text(json.dumps(bodies, ensure_ascii=False), encoding="utf-8")

        def run(tree: Path) -> dict:
            done = subprocess.run([sys.executable, "-c", _EXTRACT_CHILD, str(tree), str(data)],
                                  check=True, capture_output=True, text=True)
            got = json.loads(done.stdout)
            return {"chars": got["chars"], "seconds": round(got["seconds"], 3), "mchars_s": rate(got["chars"], got["seconds"])}

        out = {"records": len(bodies), "this_tree": run(REPO)}
        if baseline:
            tree = Path(tmp) / "baseline"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), baseline],
                           check=True, capture_output=True)
            try:
                out["baseline"] = {"rev": baseline, **run(tree)}
            finally:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)
            out["ratio"] = round(out["this_tree"]["mchars_s"] / out["baseline"]["mchars_s"], 2)
    return out


# Hostile bodies that once made a stage quadratic (issue "Hostile input"), and other long runs of one
# shape: each is extracted whole at three sizes; linear growth is ~10x per 10x of text.
HOSTILE: dict[str, Callable[[int], str]] = {
    "sentence enders .....x": lambda n: "." * (n - 1) + "x",
    "blanks after ATX heading": lambda n: "# a" + " " * (n - 5) + "b#",
    "ideographic spaces in CJK": lambda n: repeat_to("字\u3000", n),
    "digits": lambda n: "1" * n,
    "commas": lambda n: repeat_to("1,", n),
    "CJK numerals": lambda n: repeat_to("一二三四五六七八九十百千万", n),
    "list markers": lambda n: repeat_to("1. ", n),
    "soft line breaks": lambda n: repeat_to("字\n", n),
    "modal words": lambda n: repeat_to("应当不得可以", n),
    "dates in one clause": lambda n: repeat_to("2030年から", n),
    "figures in one table row": lambda n: "| " + repeat_to("1 2 3 | ", n),
    "yearly flows after frequency words": lambda n: repeat_to("每年减排1万吨，", n),
    "space-grouped, decimal-comma figures": lambda n: repeat_to("1 000 2,5 0,1 ", n),
    "HTML table cells in one row": lambda n: "<tr>" + repeat_to("<td>1 000</td>", n) + "</tr>",
    "label-value lines": lambda n: repeat_to("補助率\u3000\u30001/2以内\n", n),
    "quoted sentences with modals": lambda n: repeat_to("「企業應申報。」", n),
}


def hostile(sizes: list[int]) -> list[dict]:
    """Seconds to extract each hostile body at each size, and the growth per 10x."""
    from kb.extract import extract_text

    out = []
    for name, make in HOSTILE.items():
        times = []
        for n in sizes:
            body = make(n)
            times.append(best(lambda body=body: extract_text(body), runs=1))
        out.append({"input": name, "sizes": sizes, "seconds": [round(t, 3) for t in times],
                    "growth_per_10x": [round(b / max(a, 1e-4), 1) for a, b in zip(times, times[1:])]})
    return out


def scaling(size: int) -> list[dict]:
    flat = japanese_body().replace("\n", " ").replace("\t", " ") + " "
    lines: dict[str, Callable[[int], str]] = {
        "seed text": lambda n: repeat_to(flat, n),
        "one word": lambda n: "x" * n,
        "open tags": lambda n: repeat_to("<a ", n),
        "brackets": lambda n: "(" * (n // 2) + "]" * (n // 2),
    }
    out = []
    for name, make in lines.items():
        small, large = make(size), make(size * 10)
        t_small = best(lambda small=small: split_clauses(small, "b"), 2)
        t_large = best(lambda large=large: split_clauses(large, "b"), 1)
        out.append({"stage": "clauses", "input": name, "chars": len(large), "seconds": round(t_large, 3),
                    "growth_10x": round(t_large / max(t_small, 1e-4), 1)})
    n = max(size // 50, 200)
    for unit in NUMBER_UNITS:
        small, large = repeat_to(unit, n), repeat_to(unit, n * 10)
        t_small = best(lambda small=small: find_quantities(small), 2)
        t_large = best(lambda large=large: find_quantities(large), 1)
        out.append({"stage": "quantities", "input": unit, "chars": len(large), "seconds": round(t_large, 3),
                    "growth_10x": round(t_large / max(t_small, 1e-4), 1)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="input size factor (1.0: 1 MB stage inputs, 10 MB lines)")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    ap.add_argument("--baseline", help="a git revision whose extraction speed to measure in the same run")
    args = ap.parse_args(argv)
    size = max(int(1_000_000 * args.scale), 1_000)
    sizes = [max(int(n * args.scale), 100) for n in (10_000, 100_000, 1_000_000)]
    result = {"tokenizers": tokenizers(size), "stages": stages(size),
              "extract": extraction(max(int(200 * args.scale), 10), args.baseline), "scaling": scaling(size),
              "hostile": hostile(sizes)}
    print(json.dumps({k: v for k, v in result.items() if k not in ("scaling", "hostile")}, indent=1))
    print(f"{'stage':<11} {'input':<16} {'chars':>10} {'s':>8} {'10x text':>9}")
    for row in result["scaling"]:
        print(f"{row['stage']:<11} {row['input']!r:<16} {row['chars']:>10,} {row['seconds']:>8.3f} {row['growth_10x']:>8.1f}x")
    print(f"\n{'hostile body (whole extraction)':<32} " + " ".join(f"{n:>10,}" for n in sizes) + "   growth per 10x")
    for row in result["hostile"]:
        print(f"{row['input']:<32} " + " ".join(f"{t:>9.3f}s" for t in row["seconds"])
              + "   " + ", ".join(f"{g}x" for g in row["growth_per_10x"]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
