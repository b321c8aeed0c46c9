#!/usr/bin/env bash
# Install what is missing, and nothing else.  On a machine without an NVIDIA GPU the
# CPU build of torch is installed first, so that the package's torch range is already
# satisfied and pip never pulls the (multi-GB) CUDA build.
set -euo pipefail
PYTHON=${PYTHON:-python3}
cd "$(dirname "$0")/.."

if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
    echo "setup: GPU found, installing torch (CUDA build)"
    "$PYTHON" -m pip install --quiet "torch>=2.4,<3"
  else
    echo "setup: no GPU, installing the CPU build torch==2.13.0"
    "$PYTHON" -m pip install --quiet "torch==2.13.0"
  fi
fi

if ! "$PYTHON" -c "import marimo, numpy, scipy, polars, altair, gemmi, pydoe, pytest, hypothesis, ruff, playwright, importlinter, ray, psutil, pomodoro_core.core" 2>/dev/null \
   || ! "$PYTHON" -m pip show --quiet pomodoro-diagnostics >/dev/null 2>&1; then
  echo "setup: installing pomodoro-diagnostics and its dependencies"
  "$PYTHON" -m pip install --quiet -e ".[dev]"
fi
"$PYTHON" -c "import torch; print(f'setup: ok (torch {torch.__version__}, device: {\"cuda\" if torch.cuda.is_available() else \"cpu\"})')"
