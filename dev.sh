#!/usr/bin/env bash
# One entry point for people and CI:
#   ./dev.sh demo   set up .venv and run the example pipelines against the local services
#   ./dev.sh test   set up .venv and run ruff, the docs build (--strict) and the whole test suite
#                   (the provider's tests/ and the local service's local-service/tests/)
#   ./dev.sh setup  only set up .venv
#   ./dev.sh mutate [MODULE...]  mutation scores of the engine modules (minutes; not part of test),
#                   e.g. ./dev.sh mutate ingest/encoding.py matches/
# Needs only Python 3.10+ (python3 with venv); everything else is installed into .venv,
# pinned by constraints.txt so every machine gets the versions CI tested.
set -euo pipefail
cd "$(dirname "$0")"

VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

# pip, without the warnings some machines' pip configuration prints for every package.
quiet_pip() {
  "$VENV/bin/python" -m pip --quiet "$@" 2> >(grep -v "^WARNING: Location 'file:" >&2)
}

setup() {
  local stamp="$VENV/.installed"
  if [[ -f "$stamp" && "$stamp" -nt pyproject.toml && "$stamp" -nt local-service/pyproject.toml \
        && "$stamp" -nt constraints.txt ]]; then
    return
  fi
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || { echo "Python 3.10 or newer is needed (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV" \
    || { echo "python3 -m venv failed: on Debian/Ubuntu install python3-venv" >&2; exit 1; }
  quiet_pip install --upgrade pip
  echo "Installing pinned dependencies into $VENV (about 2 minutes the first time)..."
  quiet_pip install -c constraints.txt -e '.[test]'
  # The test extra installs the local service (local-service/) as a plain copy, and pip refuses the same
  # distribution as both that and an editable in one command: swap the copy for an editable install, so
  # edits to the service show without a reinstall.
  quiet_pip install --no-deps -e ./local-service
  touch "$stamp"
}

# A compose CLI for tests/unit/test_docker_compose.py, which validates docker-compose.yaml with it:
# the docker compose plugin, or else Debian's docker-compose package (installed when apt can).
ensure_compose() {
  if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; then
    return
  fi
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "Installing Debian's docker-compose to validate docker-compose.yaml..."
    apt-get install -y -qq docker-compose >/dev/null \
      || { apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null; }
  else
    echo "No docker compose: tests/unit/test_docker_compose.py will fail (apt-get install docker-compose)" >&2
  fi
}

# Debian's chromium for tests/e2e/test_browser.py, which drives the Airflow UI in it with Playwright
# (`playwright install` needs a download site CI cannot reach); installed when apt can.
ensure_chromium() {
  if [[ -x /usr/bin/chromium ]]; then
    return
  fi
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser test..."
    apt-get install -y -qq chromium >/dev/null \
      || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  else
    echo "No /usr/bin/chromium: tests/e2e/test_browser.py will fail (apt-get install chromium)" >&2
  fi
}

# mutmut (config in pyproject.toml [tool.mutmut]) from a fresh mutants/ copy, so no stale copy of an edited
# file is tested; MODULE arguments (ingest/encoding.py, matches/) limit which mutants run.
mutate() {
  local patterns=() module log=mutants/run.log
  for module in "$@"; do
    module="${module#airflow_provider_customerprofiles/}"
    module="${module%.py}"
    module="${module%/}"
    patterns+=("airflow_provider_customerprofiles.${module//\//.}.*")
  done
  rm -rf mutants
  mkdir mutants
  echo "Running mutmut (a full run takes 15 to 25 minutes on 2 cores; log: $log)..."
  if ! "$VENV/bin/mutmut" run "${patterns[@]}" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    exit 1
  fi
  "$VENV/bin/python" scripts/mutation_scores.py
  echo "Survivors: $VENV/bin/mutmut results; one mutant's diff: $VENV/bin/mutmut show NAME"
}

case "${1:-}" in
  setup)
    setup
    ;;
  demo)
    setup
    "$VENV/bin/python" scripts/demo.py "${@:2}"
    ;;
  test)
    setup
    ensure_compose
    ensure_chromium
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --strict --quiet
    "$VENV/bin/python" -m pytest "${@:2}"
    ;;
  mutate)
    setup
    mutate "${@:2}"
    ;;
  *)
    echo "usage: ./dev.sh demo|test|setup|mutate" >&2
    exit 2
    ;;
esac
