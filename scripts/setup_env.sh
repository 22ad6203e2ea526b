#!/usr/bin/env bash
# Creates .venv (if missing) and installs the project with everything it needs.
# Sourced by run_lander.sh and test.sh; safe to run again (pip skips what is there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if [[ ! -x "$ROOT/.venv/bin/python" ]]; then
  "$PY" -m venv "$ROOT/.venv"
fi
PIP=("$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check)
stamp="$ROOT/.venv/.installed-$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/setup_env.sh" | sha1sum | cut -c1-12)-${1:-run}"
if [[ ! -f "$stamp" ]]; then
  # llama-cpp-python compiles llama.cpp. Left to itself it builds for this CPU
  # (-march=native), which on Intel CPUs with AMX emits tile instructions that some
  # virtual machines refuse (SIGILL in the first prompt). So it is built once for the
  # x86-64-v3 level (AVX2, FMA, F16C) into a wheel of our own, kept under ~/.cache.
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
  if [[ "$(uname -m)" == "x86_64" ]]; then
    export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}"
  fi
  llama="llama-cpp-python>=0.3.16,<0.4"
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/neurojit/wheels/$(echo "${CMAKE_ARGS:-} $llama" | sha1sum | cut -c1-12)"
  if ! compgen -G "$wheels/llama_cpp_python-*.whl" >/dev/null; then
    "$ROOT/.venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
      --no-cache-dir -w "$wheels" "$llama"
  fi
  "${PIP[@]}" --force-reinstall --no-deps "$(compgen -G "$wheels/llama_cpp_python-*.whl" | head -1)"
  extras=""
  [[ "${1:-run}" == "test" ]] && extras="[test]"
  "${PIP[@]}" -e "$ROOT$extras"
  touch "$stamp"
fi
