#!/usr/bin/env bash
# Install everything into .venv, prepare the offline models, index the default corpus, ask a question.
# The index is usable within a minute (keyword search over every post, dense search over what is embedded so far):
# the question is answered then, and the embedding goes on in the background until the index is complete.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV/bin/kexue" models prepare
LOG="${TMPDIR:-/tmp}/kexue-ingest-$$.log"
"$VENV/bin/kexue" ingest >"$LOG" 2>&1 &
INGEST=$!
until "$VENV/bin/kexue" index info >/dev/null 2>&1; do
    if ! kill -0 "$INGEST" 2>/dev/null; then
        wait "$INGEST" || { cat "$LOG" >&2; exit 1; }
        break
    fi
    sleep 2
done
"$VENV/bin/ask" "${1:-SimSiam为什么不退化}"
if kill -0 "$INGEST" 2>/dev/null; then
    echo
    echo "The index is still being built in the background (progress: $LOG); waiting for it to finish."
    echo "Ctrl-C stops waiting, not the ingest; if the ingest itself is stopped, \`kexue ingest\` resumes from its"
    echo "last checkpoint."
fi
wait "$INGEST" || { cat "$LOG" >&2; exit 1; }
tail -n 8 "$LOG"
