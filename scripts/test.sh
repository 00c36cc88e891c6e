#!/usr/bin/env bash
# Install the project with its test tools into .venv, prepare the models, lint, and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh test
# Browser tests drive Debian's Chromium (no browser download); the code sandbox uses bubblewrap;
# the math tests run KaTeX under Node.
if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/bwrap ] || ! fc-list 2>/dev/null | grep -qi wqy; } && command -v apt-get >/dev/null; then
    apt-get update -q >/dev/null && apt-get install -y -q chromium bubblewrap fonts-wqy-microhei >/dev/null
fi
if [ -f tools/katex/package.json ]; then
    npm ci --prefix tools/katex --no-audit --no-fund --silent
fi
# The tests embed with int8 (tests/conftest.py: the cached test index is keyed by the embedder's fingerprint).
KEXUE_EMBED_RUNTIME=onnx-int8 "$VENV/bin/kexue" models prepare
"$VENV/bin/ruff" check .
"$VENV/bin/pytest" -q -p no:cacheprovider "$@"
