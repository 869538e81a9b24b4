#!/usr/bin/env bash
# One entry point for people and CI:
#   ./dev.sh demo   set up .venv and run the example pipelines against the local services
#   ./dev.sh test   set up .venv and run ruff and the whole test suite
#   ./dev.sh setup  only set up .venv
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
  if [[ -f "$stamp" && "$stamp" -nt pyproject.toml && "$stamp" -nt constraints.txt ]]; then
    return
  fi
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || { echo "Python 3.10 or newer is needed (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV" \
    || { echo "python3 -m venv failed: on Debian/Ubuntu install python3-venv" >&2; exit 1; }
  quiet_pip install --upgrade pip
  echo "Installing pinned dependencies into $VENV (about 2 minutes the first time)..."
  quiet_pip install -c constraints.txt -e '.[test]'
  touch "$stamp"
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
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/python" -m pytest "${@:2}"
    ;;
  *)
    echo "usage: ./dev.sh demo|test|setup" >&2
    exit 2
    ;;
esac
