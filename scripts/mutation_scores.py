"""
Print the mutation score of each module from mutmut's results in ``mutants/``.

Run by ``./dev.sh mutate`` after ``mutmut run``. A mutant counts as killed when a test
failed or timed out on it; "no tests" means no selected test runs its function at all.
Modules none of whose mutants were checked in this run are left out.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout"}


def module_statuses(meta: Path) -> Counter[str]:
    exit_codes = json.loads(meta.read_text())["exit_code_by_key"].values()
    return Counter(status_by_exit_code[code] for code in exit_codes)


def main(mutants: Path = Path("mutants")) -> int:
    rows = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        statuses = module_statuses(meta)
        checked = sum(statuses.values()) - statuses["not checked"]
        if checked:
            rows.append((str(meta.relative_to(mutants).with_suffix("")), statuses, checked))
    if not rows:
        print("No mutation results: run `./dev.sh mutate` first.", file=sys.stderr)
        return 1
    print(f"{'module':<60} {'killed':>7} {'total':>6} {'score':>7} {'survived':>9} {'no tests':>9}")
    for module, statuses, checked in rows:
        killed = sum(statuses[s] for s in KILLED)
        print(
            f"{module:<60} {killed:>7} {checked:>6} {killed / checked:>7.1%} "
            f"{statuses['survived']:>9} {statuses['no tests']:>9}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
