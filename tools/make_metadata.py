"""Write the column notes of datasette_metadata.json from the table declarations (kb/tables.py).

Every table's `columns` in the file is generated; its description, facets, canned queries and
everything else are edited by hand and kept as they are. tests/test_tables.py fails while the
committed file is not what this tool would write.

Usage (from the repository root):

    python tools/make_metadata.py            # rewrite datasette_metadata.json
    python tools/make_metadata.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kb.tables import with_column_notes  # noqa: E402

METADATA = REPO / "datasette_metadata.json"


def generated(current: str) -> str:
    """The file's text with the column notes made from the declarations."""
    return json.dumps(with_column_notes(json.loads(current)), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    current = METADATA.read_text(encoding="utf-8")
    wanted = generated(current)
    if "--check" in argv:
        if wanted != current:
            print(f"{METADATA.name} is out of date: run python tools/make_metadata.py", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        METADATA.write_text(wanted, encoding="utf-8")
        print(f"wrote {METADATA.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
