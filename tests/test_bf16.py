"""bf16 where it pays: ``--precision bf16-true`` with ``optimizer.bf16_updates`` (fp32
master weights, stochastic rounding, or plain bf16 steps), and inference's precision
(fp32 by default; ``auto``: bf16 autocast on fast-bf16 hardware for wide models, fp32
elsewhere; an asked precision always wins)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from ltx_core.engine import precision as prec
from ltx_core.optim.bf16 import (
    MASTER_KEY,
    Bf16Adam,
    Bf16AdamW,
    Bf16SGD,
    bf16_updates_class,
    stochastic_round_,
)

BF16 = torch.bfloat16


# -- stochastic rounding ------------------------------------------------------------
def _neighbours(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The bf16 values just below and above each fp32 value (by magnitude: truncation
    and truncation plus one bf16 step)."""
    bits = x.view(torch.int32)
    down = (bits & -65536).view(torch.float32)
    up = ((bits & -65536) + 65536).view(torch.float32)
    return down, up


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_stochastic_rounding_is_unbiased(sign: float) -> None:
    gen = torch.Generator().manual_seed(0)
    # Values between bf16 neighbours at several scales, each repeated many times.
    base = torch.tensor([1.0 + 2**-10, 3.0 + 2**-9 + 2**-12, 1e-3 * 1.0037, 250.3, 7e4 + 1.5])
    x = (sign * base).repeat_interleave(20000)
    out = torch.empty_like(x, dtype=BF16)
    stochastic_round_(out, x, gen)
    down, up = _neighbours(x)
    got = out.float()
    # Every result is one of the two neighbours.
    assert bool(((got == down) | (got == up)).all())
    # E[round(x)] == x: the mean of each group is within 4 standard errors of x.
    for i, value in enumerate(sign * base):
        group = got[i * 20000 : (i + 1) * 20000]
        gap = float((up[i * 20000] - down[i * 20000]).abs())
        assert abs(float(group.mean()) - float(value)) < 4 * gap * 0.5 / 20000**0.5, i


def test_stochastic_rounding_keeps_exact_values_and_specials() -> None:
    exact = torch.tensor([0.0, -0.0, 1.0, -2.5, 0.15625, float("inf"), float("-inf")])
    out = torch.empty_like(exact, dtype=BF16)
    for _ in range(20):
        stochastic_round_(out, exact)
        assert torch.equal(out.float(), exact)
    nan = torch.full((100,), float("nan"))
    out = torch.empty_like(nan, dtype=BF16)
    stochastic_round_(out, nan)
    assert bool(out.isnan().all())


# -- small updates ---------------------------------------------------------------------
def _optimizer(name: str, params: list[nn.Parameter], mode: str, **kw: Any) -> Any:
    base = {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[name]
    options: dict[str, Any] = {"lr": 1e-4, **kw}
    if name == "sgd":
        options["momentum"] = 0.0
    else:
        options["weight_decay"] = 0.0
    if mode == "plain":
        return base(params, **options)
    return bf16_updates_class(base)(params, bf16_updates=mode, **options)


@pytest.mark.parametrize("name", ["sgd", "adamw", "adam"])
@pytest.mark.parametrize("mode", ["master-weights", "stochastic-rounding", "plain"])
def test_an_update_below_bf16_resolution_moves_the_weights_unless_plain(
    name: str, mode: str
) -> None:
    """Each step moves a weight of 1.0 by 1e-4 (lr 1e-4, gradient 1; Adam's normalised
    step is lr too): a twentieth of bf16's gap below 1.0 (2**-8), so plain bf16 rounds
    every update away, while 200 of them (-0.02) must show."""
    torch.manual_seed(0)
    w = nn.Parameter(torch.ones(4096, dtype=BF16))
    opt = _optimizer(name, [w], mode)
    for _ in range(200):
        w.grad = torch.ones_like(w)
        opt.step()
        opt.zero_grad()
    assert w.dtype == BF16
    if mode == "plain":
        assert bool((w == 1.0).all())  # nothing moved
        return
    expected = 1.0 - 200 * 1e-4
    if mode == "master-weights":
        master = opt.state[w][MASTER_KEY]
        assert master.dtype == torch.float32
        assert float((master - expected).abs().max()) < 2e-5
        # The weight is the master rounded to nearest.
        assert torch.equal(w.detach(), master.to(BF16))
    else:
        assert MASTER_KEY not in opt.state[w]
        # Unbiased: on average the weights moved by the updates (each weight's own path
        # is a random walk around it).
        assert abs(float(w.float().mean()) - expected) < 1e-3


@pytest.mark.parametrize("kind", ["fused", "foreach", "loop"])
def test_master_weights_step_exactly_as_fp32_training(kind: str) -> None:
    """Given the same gradients, the fp32 masters are exactly the weights fp32 AdamW
    reaches, and the bf16 weights are them rounded."""
    torch.manual_seed(0)
    flags = {"fused": {"fused": True}, "foreach": {"foreach": True}, "loop": {"foreach": False}}
    w32 = [nn.Parameter(torch.randn(16, 8)), nn.Parameter(torch.randn(8))]
    w16 = [nn.Parameter(p.detach().to(BF16)) for p in w32]
    ref = torch.optim.AdamW(w32, lr=1e-2, **flags[kind])
    opt = Bf16AdamW(
        w16,
        lr=1e-2,
        fp32_weights={a: b.detach().clone() for a, b in zip(w16, w32, strict=True)},
        **flags[kind],
    )
    for _ in range(5):
        for a, b in zip(w16, w32, strict=True):
            g = torch.randn_like(b).to(BF16)
            a.grad, b.grad = g, g.float()
        ref.step()
        opt.step()
    for a, b in zip(w16, w32, strict=True):
        assert torch.equal(opt.state[a][MASTER_KEY], b.detach())
        assert torch.equal(a.detach(), b.detach().to(BF16))
        assert a.grad is not None and a.grad.dtype == BF16  # the gradient is the model's again
        assert opt.state[a]["exp_avg"].dtype == torch.float32


def test_fp32_parameters_beside_bf16_ones_step_as_they_are() -> None:
    keep = nn.Parameter(torch.ones(4))
    low = nn.Parameter(torch.ones(4, dtype=BF16))
    opt = Bf16SGD([keep, low], lr=1e-4, momentum=0.0)
    keep.grad, low.grad = torch.ones(4), torch.ones(4, dtype=BF16)
    opt.step()
    assert keep.dtype == torch.float32 and MASTER_KEY not in opt.state.get(keep, {})
    assert torch.allclose(keep.detach(), torch.full((4,), 1 - 1e-4))
    assert float(opt.state[low][MASTER_KEY][0]) == pytest.approx(1 - 1e-4)


@pytest.mark.parametrize("mode", ["master-weights", "stochastic-rounding"])
def test_a_saved_and_loaded_optimizer_continues_exactly(mode: str) -> None:
    """Its state dict (through torch.save/load with weights_only) keeps the masters, the
    moments and the rounding generator in fp32 / as they were: the continuation matches
    an uninterrupted run bit for bit."""
    torch.manual_seed(0)
    grads = [torch.randn(32, 8).to(BF16) for _ in range(8)]
    start = torch.randn(32, 8).to(BF16)

    def fresh() -> tuple[nn.Parameter, Any]:
        w = nn.Parameter(start.clone())
        return w, Bf16Adam([w], lr=1e-3, fused=True, bf16_updates=mode)

    def steps(w: nn.Parameter, opt: Any, part: list[torch.Tensor]) -> None:
        for g in part:
            w.grad = g.clone()
            opt.step()

    w, opt = fresh()
    steps(w, opt, grads)
    w2, opt2 = fresh()
    steps(w2, opt2, grads[:4])
    buffer = io.BytesIO()
    torch.save({"weights": w2.detach(), "optimizer": opt2.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    w3 = nn.Parameter(saved["weights"].clone())
    opt3 = Bf16Adam([w3], lr=1e-3, fused=True, bf16_updates=mode)
    opt3.load_state_dict(saved["optimizer"])
    assert {k: v.dtype for k, v in opt3.state[w3].items() if k != "step"} == {
        k: torch.float32 for k in opt.state[w] if k != "step"
    }
    steps(w3, opt3, grads[4:])
    assert torch.equal(w3.detach(), w.detach())
    if mode == "master-weights":
        assert torch.equal(opt3.state[w3][MASTER_KEY], opt.state[w][MASTER_KEY])


def test_only_the_named_modes_wrap() -> None:
    with pytest.raises(ValueError, match="plain"):
        Bf16AdamW([nn.Parameter(torch.ones(2, dtype=BF16))], bf16_updates="plain")  # type: ignore[arg-type]
    assert bf16_updates_class(torch.optim.AdamW) is Bf16AdamW
    other = bf16_updates_class(torch.optim.RMSprop)
    assert issubclass(other, torch.optim.RMSprop) and other is bf16_updates_class(
        torch.optim.RMSprop
    )


# -- through ltx train ------------------------------------------------------------------
def _ckpt(run: Path) -> dict[str, Any]:
    return dict(torch.load(run / "checkpoints" / "last.ckpt", weights_only=True))


BF16_RUN = ("--precision", "bf16-true", "trainer.gradient_clip_val=0.5")


def test_bf16_true_trains_with_fp32_masters_in_the_checkpoint(
    demo_plugin: None, ltx_train: Any
) -> None:
    run = ltx_train("demo-classify", *BF16_RUN, "--max-steps", "6", output_dir="whole")
    summary = run.summary()
    assert summary["precision"] == "bf16-true" and summary["global_step"] == 6
    ckpt = _ckpt(run.dir)
    weights = ckpt["state_dict"]
    assert {v.dtype for v in weights.values()} == {BF16}
    optimizer = ckpt["optimizer_states"][0]
    states = list(optimizer["state"].values())
    assert states and all(s[MASTER_KEY].dtype == torch.float32 for s in states)
    assert all(s["exp_avg"].dtype == torch.float32 for s in states)
    # The weights are the masters rounded, in the optimizer's parameter order.
    order = [n for n, _ in _named_trainable(run.dir)]
    ids = [i for g in optimizer["param_groups"] for i in g["params"]]
    by_name = dict(zip(order, ids, strict=True))
    for name, i in by_name.items():
        assert torch.equal(weights[name], optimizer["state"][i][MASTER_KEY].to(BF16)), name
    # The learning-rate schedule ran (demo-classify decays linearly to zero).
    assert optimizer["param_groups"][0]["lr"] < optimizer["param_groups"][0]["initial_lr"]


def _named_trainable(run_dir: Path) -> list[tuple[str, Any]]:
    """The task's parameters in the order configure_optimizers groups them."""
    from ltx_core.inference.loading import load_checkpoint
    from ltx_core.task import parameter_groups

    module, _, _ = load_checkpoint(run_dir / "checkpoints" / "last.ckpt")
    names = {id(p): n for n, p in module.named_parameters()}
    groups = parameter_groups(module, 0.01)
    return [(names[id(p)], p) for g in groups for p in g["params"]]


def test_bf16_true_resumes_exactly(demo_plugin: None, ltx_train: Any, tmp_path: Path) -> None:
    """6 steps at once, or --resume from the checkpoint the same run wrote at step 3
    (Lightning's ModelCheckpoint, inside the epoch): the same weights, fp32 masters and
    moments, bit for bit; the linear schedule and gradient clipping ran throughout."""
    steps = tmp_path / "steps"
    every3 = (
        "trainer.callbacks=[{class_path: ModelCheckpoint, init_args: {dirpath: '"
        + str(steps)
        + "', every_n_train_steps: 3, save_top_k: -1, filename: 'at-{step}'}}]"
    )
    args = (*BF16_RUN, every3, "--max-steps", "6")
    whole = ltx_train("demo-classify", *args, output_dir="whole")
    at3 = steps / "at-step=3.ckpt"
    (tmp_path / "parts" / "checkpoints").mkdir(parents=True)
    shutil.copy(at3, tmp_path / "parts" / "checkpoints" / "last.ckpt")
    resumed = ltx_train("demo-classify", *args, "--resume", output_dir="parts")
    assert resumed.summary()["resumed_from_step"] == 3
    a, b = _ckpt(whole.dir), _ckpt(resumed.dir)
    assert a["global_step"] == b["global_step"] == 6
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key, value in a["state_dict"].items():
        assert value.dtype == BF16 and torch.equal(value, b["state_dict"][key]), key
    sa, sb = a["optimizer_states"][0]["state"], b["optimizer_states"][0]["state"]
    for i, state in sa.items():
        for name in (MASTER_KEY, "exp_avg", "exp_avg_sq"):
            assert torch.equal(state[name], sb[i][name]), (i, name)
    assert a["lr_schedulers"] == b["lr_schedulers"]


def test_bf16_true_with_a_weight_average_keeps_the_average_in_fp32(
    demo_plugin: None, ltx_train: Any
) -> None:
    """trainer.ema_decay: the average was copied before the cast and stays fp32 (a 0.1%
    step of it would round away in bf16); the checkpoint's state_dict is the average, the
    raw bf16 weights ride along for --resume."""
    run = ltx_train("demo-classify", *BF16_RUN, "trainer.ema_decay=0.99")
    ckpt = _ckpt(run.dir)
    assert {v.dtype for v in ckpt["state_dict"].values()} == {torch.float32}
    assert {v.dtype for v in ckpt["current_model_state"].values()} == {BF16}
    assert "test_acc" in run.summary()["metrics"]


def test_plain_bf16_updates_keep_no_masters(demo_plugin: None, ltx_train: Any) -> None:
    run = ltx_train("demo-classify", *BF16_RUN, "optimizer.bf16_updates=plain")
    states = list(_ckpt(run.dir)["optimizer_states"][0]["state"].values())
    assert states and all(MASTER_KEY not in s for s in states)
    assert all(s["exp_avg"].dtype == BF16 for s in states)


def test_bf16_updates_are_ignored_at_other_precisions(demo_plugin: None, ltx_train: Any) -> None:
    run = ltx_train("demo-classify", "optimizer.bf16_updates=stochastic-rounding")
    ckpt = _ckpt(run.dir)
    assert {v.dtype for v in ckpt["state_dict"].values()} == {torch.float32}
    assert all(MASTER_KEY not in s for s in ckpt["optimizer_states"][0]["state"].values())


def test_a_bf16_true_checkpoint_tests_and_predicts(
    demo_plugin: None, ltx_train: Any, ltx_cli: Any
) -> None:
    run = ltx_train("demo-classify", *BF16_RUN, "optimizer.bf16_updates=stochastic-rounding")
    ckpt = str(run.checkpoint)
    tested = ltx_cli("test", "--ckpt", ckpt, "--json")
    assert tested.exit_code == 0, tested.output
    assert "test_acc" in json.loads(tested.stdout)
    # Not the training precision: inference's default.
    assert "Testing in 32-true precision (the default;" in tested.stderr
    for asked in ("bf16-true", "32-true"):
        tested = ltx_cli("test", "--ckpt", ckpt, "--precision", asked)
        assert tested.exit_code == 0, tested.output
        assert f"Testing in {asked} precision (as asked)" in tested.stderr
    overridden = ltx_cli("test", "--ckpt", ckpt, "trainer.precision=bf16-mixed")
    assert overridden.exit_code == 0, overridden.output
    assert "Testing in bf16-mixed precision (as asked)" in overridden.stderr
    for asked in ("bf16-true", "32-true"):
        predicted = ltx_cli("predict", "--ckpt", ckpt, "--precision", asked, "1,2,3,4")
        assert predicted.exit_code == 0, predicted.output
        assert f"Predicting in {asked} precision (as asked)" in predicted.stderr
        assert json.loads(predicted.stdout.strip().splitlines()[-1])["class"]


# -- inference's default precision ----------------------------------------------------
class _Narrow(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50000, 512)  # wide, but an embedding: not a matmul
        self.body = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 10))


class _Wide(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(384, 1536), nn.Linear(1536, 384), nn.Linear(384, 2))


class _Fp32Task(_Wide):
    inference_precision = "32-true"


class _AutoTask(_Wide):
    inference_precision = "auto"


def test_matmul_width_is_the_median_of_the_weight_matrices() -> None:
    assert prec.matmul_width(_Narrow()) == 64
    assert prec.matmul_width(_Wide()) == 384
    assert prec.matmul_width(nn.LayerNorm(8)) == 0


@pytest.mark.parametrize("fast", [True, False])
def test_inference_is_fp32_unless_auto_is_asked(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing asked: fp32 (the default), or the task's own default. ``auto`` (asked, or a
    task's default): bf16 for wide models where bf16 is fast, else fp32. An asked
    precision always wins."""
    monkeypatch.setattr(prec, "has_fast_bf16", lambda accelerator="auto": fast)
    resolve = prec.resolve_inference_precision
    assert prec.INFERENCE_DEFAULT == "32-true"
    chosen, why = resolve(None, "cpu", _Wide())
    assert chosen == "32-true" and "--precision auto" in why
    assert resolve(None, "cpu", _Fp32Task()) == ("32-true", "the task's default '32-true'")
    bf16_if_fast = prec.INFERENCE_BF16 if fast else "32-true"
    assert resolve(None, "cpu", _AutoTask())[0] == bf16_if_fast
    chosen, why = resolve("auto", "cpu", _Wide())
    assert chosen == bf16_if_fast, why
    chosen, why = resolve("auto", "cpu", _Narrow())
    assert chosen == "32-true"
    assert ("64-wide" in why) if fast else ("no fast bf16" in why)
    for asked in ("32-true", "bf16-mixed", "bf16-true"):
        for model in (_Wide(), _Narrow(), _Fp32Task(), _AutoTask()):
            assert resolve(asked, "cpu", model) == (asked, "as asked")


def test_the_predictor_says_its_precision(demo_plugin: None, ltx_train: Any) -> None:
    """A demo checkpoint (an 8-wide MLP) predicts in fp32 by default and under ``auto``
    whatever the CPU, and in what is asked for; its info says which."""
    from ltx_core.inference.predictor import Predictor

    run = ltx_train("demo-classify")
    for asked in (None, "auto"):
        predictor = Predictor.from_checkpoint(run.checkpoint, accelerator="cpu", precision=asked)
        assert predictor.precision == "32-true"
        assert predictor.info()["precision"] == "32-true"
    asked = Predictor.from_checkpoint(run.checkpoint, accelerator="cpu", precision="bf16-mixed")
    assert asked.info()["precision"] == "bf16-mixed" and asked.precision_reason == "as asked"
    assert asked.predict(["1,2,3,4"])[0]["class"] in ("ant", "bee", "cat")


def test_a_trainer_precision_override_is_what_ltx_test_asks_for() -> None:
    from ltx_core.inference.evaluation import asked_precision

    assert asked_precision(None) is None
    assert asked_precision(["trainer.precision=32-true", "seed=1"]) == "32-true"
    assert asked_precision(["trainer.precision=bf16-true", "trainer.precision=16-mixed"]) == (
        "16-mixed"
    )
