"""A real Airflow 3 deployment for end-to-end tests: api-server, scheduler, dag-processor and
triggerer as separate processes, metadata in a fresh PostgreSQL database, and either the
LocalExecutor or the CeleryExecutor with Celery workers as separate processes (Redis broker,
PostgreSQL result backend)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import psutil
import psycopg2
import redis

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
CELERY_EXECUTOR = "CeleryExecutor"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Each Celery worker reports its own name as the task instance's hostname (all run on this machine).
WORKER_NAME_VARIABLE = "CP_E2E_WORKER_NAME"
ADMIN = "admin"  # the simple auth manager's user the harness calls the REST API as


def worker_hostname() -> str:
    """``[core] hostname_callable`` for the stack: the Celery worker's name, else this machine's."""
    return os.environ.get(WORKER_NAME_VARIABLE) or socket.getfqdn()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AirflowStack:
    """Handles to a running deployment: ``airflow(...)`` runs its CLI, ``api(...)`` calls its REST API."""

    home: Path
    env: dict[str, str]
    database_dsn: str
    processes: dict[str, subprocess.Popen]
    admin_password: str
    token: str | None = None

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

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """The api-server's REST API (``/api/v2``) as the admin user.

        Polls and triggers go here, not to the CLI: each CLI call starts an interpreter that imports Airflow,
        seconds of CPU taken from the deployment under test on a two-core machine.
        """
        if self.token is None:
            credentials = {"username": ADMIN, "password": self.admin_password}
            self.token = self._request("POST", "/auth/token", credentials)["access_token"]
        return self._request(method, f"/api/v2{path}", body, {"Authorization": f"Bearer {self.token}"})

    def _request(self, method: str, path: str, body: dict | None, headers: dict[str, str] | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.env['AIRFLOW__API__PORT']}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http on loopback)
            return json.load(response)

    def trigger_and_wait(self, dag_id: str, conf: dict | None = None, timeout: float = 600) -> str:
        """Unpause, trigger, and wait for the run to end; returns its final state."""
        return self.wait_for_run(dag_id, self.trigger(dag_id, conf), timeout)

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """Unpause and trigger once the dag-processor has parsed the DAG; returns the run id."""
        self.wait_for_dag(dag_id)
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        run_id = f"e2e__{uuid.uuid4().hex[:8]}"
        self.api("POST", f"/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}})
        return run_id

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """Wait for the run to end; returns its final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(1)
        raise TimeoutError(f"{dag_id} run {run_id} did not finish within {timeout} s; logs in {self.home}")

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Wait until the api-server answers and knows the DAG, which the dag-processor has then parsed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.api("GET", f"/dags/{dag_id}")
                return
            except urllib.error.HTTPError as exc:
                if exc.code != HTTPStatus.NOT_FOUND:
                    raise
            except OSError:
                pass  # the api-server is not listening yet
            time.sleep(1)
        raise TimeoutError(f"the dag-processor did not parse {dag_id} within {timeout} s")

    def kill_worker(self, name: str) -> list[int]:
        """``kill -9`` a Celery worker and every process below it (its task processes); returns their pids."""
        worker = psutil.Process(self.processes[f"worker-{name}"].pid)
        victims = [worker, *worker.children(recursive=True)]
        for victim in victims:
            with contextlib.suppress(psutil.NoSuchProcess):
                victim.kill()
        psutil.wait_procs(victims, timeout=10)
        return [victim.pid for victim in victims]

    def query(self, sql: str, *params: object) -> list[tuple]:
        """Rows from the metadata database (task instances, their history, XComs)."""
        with contextlib.closing(psycopg2.connect(self.database_dsn)) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

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


def _empty_redis_database(db: int) -> None:
    """A broker database with no messages left by an earlier run; fails clearly when Redis is missing."""
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_connect_timeout=3).flushdb()
    except redis.exceptions.ConnectionError as exc:
        raise RuntimeError(
            f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT} ({exc}). The CeleryExecutor test needs it as "
            "its broker: start it (for example `redis-server --daemonize yes`)."
        ) from exc


def _celery_settings(database_url: str, broker_db: int) -> dict[str, str]:
    return {
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{broker_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database_url.replace("+psycopg2", ""),
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH")])),
    }


def _worker_commands(workers: Sequence[str], concurrency: int) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each worker: its CLI arguments and its own environment (name, log-server port)."""
    return {
        f"worker-{name}": (
            ["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(concurrency)],
            {WORKER_NAME_VARIABLE: name, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port())},
        )
        for name in workers
    }


@contextmanager
def airflow_stack(
    home: Path,
    dags_folder: Path,
    extra_env: dict[str, str],
    executor: str = "LocalExecutor",
    workers: Sequence[str] = (),
    worker_concurrency: int = 2,
    broker_db: int = 7,
) -> Iterator[AirflowStack]:
    """Migrate a new PostgreSQL metadata database and run every Airflow 3 component until exit.

    With ``executor="CeleryExecutor"``, ``workers`` names the Celery workers to start (separate
    processes, each ``worker_concurrency`` slots), with Redis database ``broker_db`` as the broker
    and the metadata database as the result backend.
    """
    database = f"cp_e2e_{uuid.uuid4().hex[:10]}"
    admin_dsn = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"
    celery = executor == CELERY_EXECUTOR
    if celery:
        _empty_redis_database(broker_db)
    _create_database(admin_dsn, database)
    port = _free_port()
    admin_password = uuid.uuid4().hex
    passwords = home / "simple_auth_manager_passwords.json"
    home.mkdir(parents=True, exist_ok=True)
    passwords.write_text(json.dumps({ADMIN: admin_password}))
    env = {
        **os.environ,
        **extra_env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        # Test machines run many processes on few cores: a task waits longer for the api-server than 5 s.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        **(_celery_settings(database_url, broker_db) if celery else {}),
    }
    commands = {name: ([name], {}) for name in COMPONENTS}
    commands["api-server"] = (["api-server", "--port", str(port)], {})
    if celery:
        commands.update(_worker_commands(workers, worker_concurrency))
    stack = AirflowStack(home, env, database_url.replace("+psycopg2", ""), {}, admin_password)
    processes = stack.processes
    try:
        stack.airflow("db", "migrate", timeout=300)
        for name, (args, own_env) in commands.items():
            log = (home / f"{name}.out").open("w")
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args],
                env={**env, **own_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        yield stack
    finally:
        for process in processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        _drop_database(admin_dsn, database)
