#!/usr/bin/env bash
# Set up (first run) and start NeuroJIT on its embedded defaults.
# Until the workstation UI lands, this runs the headless demo: real MLIR compiles of the
# sample controllers and a hot-swap under a running native loop.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup_env.sh" run
exec "$ROOT/.venv/bin/neurojit" demo "$@"
