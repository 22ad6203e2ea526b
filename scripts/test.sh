#!/usr/bin/env bash
# Set up (first run), then lint, check the formatting and type-check (ruff, mypy; see
# pyproject.toml), then run the test suite. Extra arguments go to pytest and skip the
# static checks: `scripts/test.sh -m "not slow"` is the quick loop, `scripts/test.sh
# tests/test_evolve.py` one file.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup_env.sh" test
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
if [[ "$#" -eq 0 ]]; then
  "$PY" -m ruff check neurojit_tui tests scripts
  "$PY" -m ruff format --check neurojit_tui tests scripts
  "$PY" -m mypy
fi
exec "$PY" -m pytest -q "$@"
