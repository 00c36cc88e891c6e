# Sourced by the other scripts: create .venv (Python 3.11) and install the project into it.
# Usage: source scripts/venv.sh [extra]   (extra: a pyproject optional-dependency group, e.g. "test")
VENV="${KEXUE_VENV:-$PWD/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    PY="$(command -v python3.11 || command -v python3)"
    "$PY" -m venv "$VENV"
fi
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_CURL=OFF}"
# torch first, pinned: its CPU wheel; an unpinned torch would pull several GB of CUDA packages.
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q -e ".${1:+[$1]}"
