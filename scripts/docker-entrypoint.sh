#!/bin/sh
# Container start: index the mounted corpus when there is no index yet, then run the command.
set -e
if [ ! -f "$KEXUE_INDEX/CURRENT" ] && [ -d "$KEXUE_CORPUS" ]; then
    kexue ingest --no-progress "$KEXUE_CORPUS"
fi
exec "$@"
