"""A real Airflow 3 deployment for end-to-end tests: api-server, scheduler, dag-processor and
triggerer as separate processes, LocalExecutor, metadata in a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AirflowStack:
    """Handles to a running deployment; ``airflow(...)`` runs the CLI against it."""

    home: Path
    env: dict[str, str]

    def airflow(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def airflow_json(self, *args: str) -> list[dict]:
        """A CLI listing as JSON (the CLI may print warnings before the document)."""
        output = self.airflow(*args, "--output", "json")
        document = re.search(r"^\[\s*[{\]].*", output, re.MULTILINE | re.DOTALL)
        if document is None:
            raise RuntimeError(f"airflow {' '.join(args)} printed no JSON list:\n{output[-2000:]}")
        return json.loads(document.group(0))

    def trigger_and_wait(self, dag_id: str, conf: dict | None = None, timeout: float = 600) -> str:
        """Unpause, trigger, and wait for the run to end; returns its final state."""
        self.wait_for_dag(dag_id)
        self.airflow("dags", "unpause", dag_id)
        run_id = f"e2e__{uuid.uuid4().hex[:8]}"
        self.airflow("dags", "trigger", dag_id, "--run-id", run_id, "--conf", json.dumps(conf or {}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.airflow_json("dags", "list-runs", dag_id)
            state = next((r["state"] for r in runs if r["run_id"] == run_id), None)
            if state in ("success", "failed"):
                return state
            time.sleep(3)
        raise TimeoutError(f"{dag_id} run {run_id} did not finish within {timeout} s; logs in {self.home}")

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dags = self.airflow_json("dags", "list")
            if any(d["dag_id"] == dag_id for d in dags):
                return
            time.sleep(3)
        raise TimeoutError(f"the dag-processor did not parse {dag_id} within {timeout} s")

    def task_log_text(self) -> str:
        """Every task log the deployment wrote, for assertions on what was (not) logged."""
        return "\n".join(p.read_text(errors="replace") for p in (self.home / "logs").rglob("*.log"))


def _create_database(dsn_admin: str, name: str) -> None:
    connection = psycopg2.connect(dsn_admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def _drop_database(dsn_admin: str, name: str) -> None:
    connection = psycopg2.connect(dsn_admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


@contextmanager
def airflow_stack(home: Path, dags_folder: Path, extra_env: dict[str, str]) -> Iterator[AirflowStack]:
    """Migrate a new PostgreSQL metadata database and run every Airflow 3 component until exit."""
    database = f"cp_e2e_{uuid.uuid4().hex[:10]}"
    admin_dsn = "postgresql://postgres@127.0.0.1:5432/postgres"
    _create_database(admin_dsn, database)
    port = _free_port()
    env = {
        **os.environ,
        **extra_env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    }
    stack = AirflowStack(home, env)
    processes: list[subprocess.Popen] = []
    try:
        stack.airflow("db", "migrate", timeout=300)
        for component in COMPONENTS:
            log = (home / f"{component}.out").open("w")
            args = [component, "--port", str(port)] if component == "api-server" else [component]
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "airflow", *args],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield stack
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        _drop_database(admin_dsn, database)
