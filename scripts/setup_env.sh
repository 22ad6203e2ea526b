#!/usr/bin/env bash
# Creates .venv (if missing) and installs the project with everything it needs.
# Sourced by run_lander.sh and test.sh; safe to run again (pip skips what is there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if [[ ! -x "$ROOT/.venv/bin/python" ]]; then
  "$PY" -m venv "$ROOT/.venv"
fi
# llama-cpp-python compiles llama.cpp on first install; pip caches the wheel afterwards.
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
stamp="$ROOT/.venv/.installed-$(sha1sum "$ROOT/pyproject.toml" | cut -c1-12)-${1:-run}"
if [[ ! -f "$stamp" ]]; then
  extras=""
  [[ "${1:-run}" == "test" ]] && extras="[test]"
  "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$extras"
  touch "$stamp"
fi
