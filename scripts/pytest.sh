#!/usr/bin/env bash
# Runs the models/ recipe tests with Debian's Python, which carries python3-torch; a pyenv or venv
# `python3` earlier on PATH usually lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."

python=/usr/bin/python3
if ! "$python" -c "import torch, onnx, numpy, PIL, pytest" 2>/dev/null; then
  echo "test:models: $python lacks torch, onnx, numpy, Pillow or pytest; run 'bash scripts/setup-test-deps.sh' as root first." >&2
  exit 1
fi

cd models
exec "$python" -m pytest -q -p no:cacheprovider "$@"
