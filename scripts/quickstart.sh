#!/usr/bin/env bash
# Install everything into .venv, prepare the offline models, index the default corpus, ask a question.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV/bin/kexue" models prepare
"$VENV/bin/kexue" ingest
"$VENV/bin/ask" "${1:-SimSiam为什么不退化}"
