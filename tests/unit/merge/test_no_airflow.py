"""The merge engine is usable from a plain script: importing it must not import Airflow."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import airflow_provider_customerprofiles.merge
leaked = sorted(m for m in sys.modules if m == "airflow" or m.startswith("airflow."))
assert not leaked, leaked
"""


def test_merge_engine_does_not_import_airflow():
    subprocess.run([sys.executable, "-c", CHECK], check=True)
