"""The tests mutmut runs (pyproject.toml [tool.mutmut]) must be findable by their ids.

mutmut runs a mutant's tests by id in a process where pytest already ran; pytest cannot find a
parametrized id holding an escape (a newline, a NUL byte, non-ASCII), that run fails, and mutmut
counts every mutant those tests cover as killed. Use ``tests.plain_ids.plain_id`` for such parameters.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: mutmut reads its configuration with toml there, and so do we
    import toml as tomllib

REPO = Path(__file__).parents[2]


def test_every_test_mutmut_selects_has_a_plain_id():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mutmut"]
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:randomly",
            *config["pytest_add_cli_args"],
            *config["pytest_add_cli_args_test_selection"],
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    assert len(ids) > 500
    escaped = [i for i in ids if "\\" in i or not (i.isascii() and i.isprintable())]
    assert escaped == []
