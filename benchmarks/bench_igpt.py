"""Training throughput of the igpt task, in pixels per second, side by side in one process.

(a) ltx: the ``igpt`` task built from the registry and trained by the Lightning
    Trainer the core builds for ``ltx train`` (loggers and callbacks included);
(b) plain: a hand-written PyTorch loop over the same model, optimizer and data loader;
(c) original: the Lightning Transformers example's architecture at its original size
    (16 wide, 2 heads, 8 layers): sequence-first ``nn.MultiheadAttention`` with an
    explicit additive mask built every step, and its post-LN block. Written here only
    as a reference; it trains with the same loop and optimizer as (b).

Cases: the default run (digits, ``gpt2`` preset) and CIFAR-10-shaped data (32x32x3,
1024 pixels per image, written to a temporary folder in torchvision's layout and read
by the real ``cifar10`` dataset, augmentation on) at the original size.
Variants run interleaved, ``--repeats`` rounds; ratios are the median of the per-round
ratios (each round's variants run back to back, so a slow spell on a shared machine
moves both sides of a ratio alike), printed with their range.

    python benchmarks/bench_igpt.py [--steps 100] [--cifar-steps 6] [--repeats 5]

Besides wall-clock pixels/s it prints pixels per CPU-second of the process, which a
neighbour's load on a shared machine disturbs much less.
"""

from __future__ import annotations

import os

# Before torch loads OpenMP: spinning workers on a shared CPU turn every small op into a
# wait for a descheduled thread (100x slower when another process holds a core), which
# would measure the neighbours, not the code. Passive waiting is the same for all variants.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import logging
import pickle
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from ltx_vision_igpt.palette import quantize
from torch import Tensor, nn

from ltx_core.config.resolve import resolve_config
from ltx_core.engine.build import build_datamodule, build_task, dataset_handoff
from ltx_core.engine.trainer import build_trainer
from ltx_core.task import lr_lambda, parameter_groups

log = logging.getLogger("bench_igpt")


# -- (c) the original example's model, kept only as a reference ---------------------


class OriginalBlock(nn.Module):
    """The original block: the residual stream itself is normalised (post-LN by accident)."""

    def __init__(self, embed_dim: int, num_heads: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(embed_dim)
        self.ln_2 = nn.LayerNorm(embed_dim)
        self.attn = nn.MultiheadAttention(embed_dim, num_heads)  # sequence-first
        self.mlp = nn.Sequential(
            nn.Linear(embed_dim, embed_dim * 4), nn.GELU(), nn.Linear(embed_dim * 4, embed_dim)
        )

    def forward(self, x: Tensor) -> Tensor:
        mask = torch.full((len(x), len(x)), -float("inf"), device=x.device, dtype=x.dtype)
        mask = torch.triu(mask, diagonal=1)
        x = self.ln_1(x)
        a, _ = self.attn(x, x, x, attn_mask=mask, need_weights=False)
        x = x + a
        return x + self.mlp(self.ln_2(x))


class OriginalGPT2(nn.Module):
    """The original GPT: inputs (T, B), a start vector, learned positions, a mean-pooled head."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        num_layers: int,
        num_positions: int,
        num_vocab: int,
        num_classes: int,
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.sos = nn.Parameter(torch.zeros(embed_dim))
        nn.init.normal_(self.sos)
        self.token_embeddings = nn.Embedding(num_vocab, embed_dim)
        self.position_embeddings = nn.Embedding(num_positions, embed_dim)
        self.layers = nn.ModuleList(OriginalBlock(embed_dim, num_heads) for _ in range(num_layers))
        self.ln_f = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_vocab, bias=False)
        self.clf_head = nn.Linear(embed_dim, num_classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        length, batch = x.shape
        h = self.token_embeddings(x)
        sos = torch.ones(1, batch, self.embed_dim, device=x.device) * self.sos
        h = torch.cat([sos, h[:-1]], dim=0)
        positions = torch.arange(length, device=x.device).unsqueeze(-1)
        h = h + self.position_embeddings(positions).expand_as(h)
        for layer in self.layers:
            h = layer(h)
        h = self.ln_f(h)
        return self.clf_head(h.mean(0)), self.head(h)


def original_quantize(x: Tensor, centroids: Tensor) -> Tensor:
    """The original's quantisation: full squared distances on (B*H*W, C), then (T, B)."""
    b, c, _, _ = x.shape
    x = (x.float() / 255.0).permute(0, 2, 3, 1).contiguous().view(-1, c)
    d = (x**2).sum(1, keepdim=True) - 2 * x @ centroids.T + (centroids.T**2).sum(0, keepdim=True)
    return d.argmin(1).view(b, -1).transpose(0, 1).contiguous()


# -- timing ------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Clock:
    """Pixels, wall seconds and CPU seconds over the measured steps (after ``warmup``)."""

    def __init__(self, warmup: int, steps: int, device: torch.device) -> None:
        self.warmup, self.last, self.device = warmup, warmup + steps, device
        self.step = 0
        self.start = 0.0
        self.cpu_start = 0.0
        self.pixels = 0
        self.stop = 0.0
        self.cpu_stop = 0.0

    def begin(self) -> None:
        if self.step == self.warmup:
            _sync(self.device)
            self.start = time.perf_counter()
            self.cpu_start = time.process_time()

    def end(self, pixels: int) -> None:
        self.step += 1
        if self.step > self.warmup:
            self.pixels += pixels
        if self.step == self.last:
            # Stop at the last step's end: what a loop does after it (Lightning's teardown,
            # saving the last checkpoint) is not training throughput.
            _sync(self.device)
            self.stop = time.perf_counter()
            self.cpu_stop = time.process_time()

    def rate(self) -> tuple[float, float]:
        """(pixels per wall second, pixels per CPU second of this process)."""
        wall = self.stop - self.start
        cpu = self.cpu_stop - self.cpu_start
        return self.pixels / wall, self.pixels / max(cpu, 1e-9)


class ClockCallback(pl.Callback):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def on_train_batch_start(self, trainer: Any, module: Any, batch: Any, batch_idx: int) -> None:
        self.clock.begin()

    def on_train_batch_end(
        self, trainer: Any, module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.clock.end(module.batch_stats(batch)[1])


def _batches(loader: Any) -> Iterator[Any]:
    while True:
        yield from loader


def run_ltx(resolved: Any, steps: int, warmup: int, device: torch.device) -> tuple[float, float]:
    torch.manual_seed(0)
    dm = build_datamodule(resolved)
    dm.prepare_data()
    dm.setup("fit")
    task = build_task(resolved, dataset_handoff(dm, resolved))
    clock = Clock(warmup, steps, device)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = build_trainer(
            resolved.config.trainer,
            Path(run_dir),
            monitor=task.monitor,
            mode=task.monitor_mode,
            extra_callbacks=[ClockCallback(clock)],
        )
        trainer.fit(task, datamodule=dm)
        return clock.rate()


def run_plain(
    resolved: Any, steps: int, warmup: int, device: torch.device, original: bool = False
) -> tuple[float, float]:
    """The same step as the task's, by hand: quantise on device, joint loss, AdamW + schedule."""
    torch.manual_seed(0)
    cfg = resolved.config
    dm = build_datamodule(resolved)
    dm.prepare_data()
    dm.setup("fit")
    info = dataset_handoff(dm, resolved)
    palette = torch.tensor(info.as_dict()["palette"], device=device)
    if original:
        model: nn.Module = OriginalGPT2(
            cfg.backbone.n_embd,
            cfg.backbone.n_head,
            cfg.backbone.n_layer,
            info.as_dict()["seq_len"],
            info.as_dict()["vocab_size"],
            info.as_dict()["num_classes"],
        )
    else:
        model = build_task(resolved, info).backbone
    model.to(device).train()
    # The optimizer ltx's task builds (fused AdamW on CPU and CUDA), so that the loops differ
    # only in what drives them.
    opt = torch.optim.AdamW(
        parameter_groups(model, cfg.optimizer.weight_decay),
        lr=cfg.optimizer.lr,
        betas=cfg.optimizer.betas,
        eps=cfg.optimizer.eps,
        fused=device.type in ("cuda", "cpu"),
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg.scheduler, warmup + steps))
    # The weight average ltx keeps when the config asks for one (trainer.ema_decay), as the
    # core's WeightAveraging callback keeps it: weights and buffers, after every step.
    ema = None
    if cfg.trainer.ema_decay is not None and not original:
        ema = torch.optim.swa_utils.AveragedModel(
            model,
            multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.trainer.ema_decay),
            use_buffers=True,
        )
    clip = cfg.trainer.gradient_clip_val
    w = cfg.task.classifier_weight
    clock = Clock(warmup, steps, device)
    batches = _batches(dm.train_dataloader())
    for _ in range(warmup + steps):
        clock.begin()
        images, labels = next(batches)
        images, labels = images.to(device), labels.to(device)
        if original:
            idx = original_quantize(images, palette)  # (T, B)
            clf_logits, logits = model(idx)
            gen = F.cross_entropy(logits.view(-1, logits.size(-1)), idx.view(-1))
        else:
            idx = quantize(images, palette)  # (B, T)
            hidden = model.features(idx)  # type: ignore[operator]
            logits = model.lm_head(hidden)  # type: ignore[operator]
            gen = F.cross_entropy(logits.flatten(0, 1), idx.flatten())
            clf_logits = model.classify(hidden)  # type: ignore[operator]
        loss = gen + w * F.cross_entropy(clf_logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        if ema is not None:
            ema.update_parameters(model)
        clock.end(idx.numel())
    return clock.rate()


# -- cases -------------------------------------------------------------------------


def write_cifar_shaped(root: Path, n_per_batch: int) -> None:
    """Random 32x32 colour images in CIFAR-10's on-disk format (content is irrelevant here)."""
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        entry = {
            "data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
            "labels": rng.integers(0, 10, n_per_batch).tolist(),
        }
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="measured steps per digits run")
    parser.add_argument("--cifar-steps", type=int, default=6, help="measured steps, 32x32 case")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured steps first")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs per variant")
    parser.add_argument("--cifar-batch", type=int, default=8, help="batch on 32x32 images")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in ("pytorch_lightning", "lightning", "lightning_fabric", "ltx_vision_igpt"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    device = torch.device(args.device)

    def flags(steps: int) -> dict[str, Any]:
        trainer = {
            "accelerator": "gpu" if device.type == "cuda" else "cpu",
            "devices": 1,
            "max_steps": args.warmup + steps,
            "max_epochs": None,
            "limit_val_batches": 0,
            "num_sanity_val_steps": 0,
            "enable_progress_bar": False,
            "tensorboard": False,
        }
        return {"trainer": trainer}

    tmp = Path(tempfile.mkdtemp(prefix="bench-igpt-"))
    os.environ.setdefault("LTX_CACHE_DIR", str(tmp / "cache"))
    per_batch = max(40, 2 * args.cifar_batch * (args.warmup + args.cifar_steps) // 5)
    write_cifar_shaped(tmp / "data", n_per_batch=per_batch)

    # (name, resolved config, variants, measured steps)
    cases: list[tuple[str, Any, list[str], int]] = [
        (
            "digits 8x8, gpt2 preset",
            resolve_config("igpt", flags=flags(args.steps)),
            ["ltx", "plain"],
            args.steps,
        ),
        (
            "CIFAR-10 32x32x3, original size 16/2/8",
            resolve_config(
                "igpt",
                dataset="cifar10",
                backbone="igpt-orig",
                overrides=[
                    f"dataset.data_dir={tmp / 'data'}",
                    f"dataset.batch_size={args.cifar_batch}",
                ],
                flags=flags(args.cifar_steps),
            ),
            ["ltx", "plain", "original"],
            args.cifar_steps,
        ),
    ]
    runners: dict[str, Callable[[Any, int], tuple[float, float]]] = {
        "ltx": lambda r, n: run_ltx(r, n, args.warmup, device),
        "plain": lambda r, n: run_plain(r, n, args.warmup, device),
        "original": lambda r, n: run_plain(r, n, args.warmup, device, original=True),
    }
    started = time.perf_counter()
    # rates[(case, variant)] = [(pixels/s, pixels per CPU-s) per round]
    rates: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.repeats):
        for case, resolved, variants, steps in cases:
            for variant in variants:
                rates.setdefault((case, variant), []).append(runners[variant](resolved, steps))

    def ratio(case: str, variant: str, base: str, which: int = 0) -> list[float]:
        """Per-round ratios: the variants of one round ran back to back, so a slow spell
        of a shared machine moves both sides of each ratio alike."""
        return [
            a[which] / b[which]
            for a, b in zip(rates[(case, variant)], rates[(case, base)], strict=True)
        ]

    print(
        f"\nigpt training throughput ({args.repeats} interleaved rounds; {args.steps} / "
        f"{args.cifar_steps} steps after {args.warmup} warm-up, batch {args.cifar_batch} on "
        f"32x32; {device.type}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__})\n"
        "pixels/s: best round; ratios: median of the per-round ratios [lowest-highest]"
    )
    print(
        f"{'case':<40} {'variant':<9} {'pixels/s':>9} {'vs plain':>20} {'vs original':>20}"
        f" {'CPU-s vs plain':>15}"
    )
    for case, _, variants, _ in cases:
        for variant in variants:
            best = max(r[0] for r in rates[(case, variant)])
            vs_plain = _spread(ratio(case, variant, "plain"))
            vs_orig = (
                _spread(ratio(case, variant, "original")) if (case, "original") in rates else "-"
            )
            cpu = statistics.median(ratio(case, variant, "plain", which=1))
            print(
                f"{case:<40} {variant:<9} {best:>9.0f} {vs_plain:>20} {vs_orig:>20} {cpu:>14.2f}x"
            )
    ltx_vs_plain = min(statistics.median(ratio(c, "ltx", "plain")) for c, *_ in cases)
    ltx_vs_orig = statistics.median(ratio(cases[1][0], "ltx", "original"))
    print(
        f"\ntargets (medians): ltx >= 0.95x plain: {ltx_vs_plain:.2f}x "
        f"({'met' if ltx_vs_plain >= 0.95 else 'NOT met'}); ltx >= 1.5x original at the "
        f"original size: {ltx_vs_orig:.2f}x ({'met' if ltx_vs_orig >= 1.5 else 'NOT met'}); "
        f"{time.perf_counter() - started:.0f} s"
    )


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x [{min(values):.2f}-{max(values):.2f}]"


if __name__ == "__main__":
    main()
