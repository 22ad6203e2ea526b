#!/usr/bin/env bash
# Set up (first run) and start NeuroJIT on its embedded defaults: the workstation on the
# heuristic sample when run in a terminal, the headless demo otherwise (CI, pipes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup_env.sh" run
if [ -t 0 ] && [ -t 1 ] && [ "$#" -eq 0 ]; then
  exec "$ROOT/.venv/bin/neurojit" "$ROOT/samples/heuristic.mlir"
fi
exec "$ROOT/.venv/bin/neurojit" demo "$@"
