#!/usr/bin/env bash
# Install the project with its test tools into .venv, prepare the models, lint, and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh test
"$VENV/bin/kexue" models prepare
"$VENV/bin/ruff" check .
"$VENV/bin/pytest" -q -p no:cacheprovider "$@"
